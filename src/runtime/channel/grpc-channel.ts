/**
 * The `grpc` channel: an invoke of an app that speaks gRPC (Dapr's app protocol `grpc`) is a call of
 * the app's `dapr.proto.runtime.v1.AppCallback/OnInvoke`, as Dapr makes it — an InvokeRequest with the
 * method, the data as google.protobuf.Any, the content type and the HTTP verb and query
 * (http_extension), the caller's metadata as gRPC metadata; the InvokeResponse's data and content type
 * are the answer, the app's response metadata its headers.
 *
 *   { "protocol": "grpc", "listener": "127.0.0.1:50051", "size": 4,
 *     "ext": { "retry_policy": { "max_attempts": 3, "initial_backoff": "100ms", "max_backoff": "1s",
 *              "backoff_multiplier": 2, "retryable_status_codes": ["UNAVAILABLE"] },
 *              "gzip_min_bytes": 65536 } }
 *
 * `listener` is the target (host:port, a socket path, or an in-process listener: an Http2 `proxy`
 * whose cluster's load balancer picks the app's host); with `ext.cluster` the channel itself picks
 * among that cluster's hosts per call, by its lb_type (`ext.hash_policy`: the metadata the
 * consistent-hash balancers hash). `size` is the HTTP/2 connections per worker and host, grown as the
 * app's max-concurrent-streams fills. Calls go out on Ringside's upstream gRPC channel
 * (src/upstream/grpc): gRPC connectivity states and connect backoff, the retry policy's attempts with
 * `grpc-previous-rpc-attempts`, and messages of at least `gzip_min_bytes` gzip-compressed on the
 * worker's offload pool.
 *
 * The app's gRPC status comes back as it is (RpcResponse.grpcStatus: the Dapr gRPC API answers with
 * it); `status` carries Dapr's HTTP equivalent (HTTPStatusFromCode) for the Dapr HTTP and Layotto APIs.
 */
import { GrpcCode, RingsideError } from '../../common/errors.js';
import type { Channel, ChannelEnv, ChannelStats, RpcRequest, RpcResponse, RpcResponseHeaders } from '../../types/runtime.js';
import type { ChannelConfig, ChannelFactory } from './factory.js';
import { GrpcChannel } from '../../upstream/grpc/channel.js';
import { DEFAULT_CONNECT_BACKOFF } from '../../upstream/grpc/defaults.js';
import { channelExt, grpcChannelSpec, type GrpcChannelExt } from './specs.js';

/** `/${APP_CALLBACK_SERVICE}/OnInvoke` (proto.ts, not imported here: see AppCallbackChannel). */
const ON_INVOKE_PATH = '/dapr.proto.runtime.v1.AppCallback/OnInvoke';
/** HTTPExtension.Verb numbers (proto.ts VERB_NAMES). */
const VERB_NAMES = ['NONE', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/** Dapr's HTTPStatusFromCode (grpc-gateway's mapping): what an HTTP caller sees of a gRPC app's status. */
const HTTP_OF_CODE = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

/** Request headers that are the transport's or the invoke's own, never gRPC metadata toward the app. */
const NOT_METADATA = new Set(['verb', 'query_string', 'content-type', 'content-length', 'te', 'host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'user-agent', 'dapr-api-token']);
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const METADATA_NAME = /^[0-9a-z_.-]+$/;

function metadataOf(req: RpcRequest): string[] {
  const out: string[] = [];
  for (const name in req.headers) {
    if (NOT_METADATA.has(name) || name.startsWith('grpc-') || name.charCodeAt(0) === 58) continue;
    const value = req.headers[name]!;
    if (!METADATA_NAME.test(name)) throw new RingsideError('BAD_REQUEST', 'downstream', `metadata key ${JSON.stringify(name)} is not a valid gRPC metadata name`);
    if (!FIELD_VALUE.test(value)) throw new RingsideError('BAD_REQUEST', 'downstream', `metadata ${JSON.stringify(name)} holds a control character`);
    out.push(name, value);
  }
  return out;
}

function headersOf(fields: readonly string[]): RpcResponseHeaders {
  const out: RpcResponseHeaders = {};
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name === 'content-type' || name === 'grpc-encoding' || name === 'grpc-accept-encoding') continue;
    (out[name] ??= []).push(fields[i + 1]!);
  }
  return out;
}

/**
 * The protos (protobufjs) load on a channel's first call, not when the module is imported: the main
 * thread registers channel protocols to validate configs and must not pay for protobufjs.
 */
let protos: Promise<typeof import('../proto.js')> | undefined;

class AppCallbackChannel implements Channel {
  readonly #channel: GrpcChannel;
  readonly #size: number;
  #calls = 0;

  constructor(config: ChannelConfig, ext: GrpcChannelExt, env: ChannelEnv, path: string) {
    this.#size = config.size;
    let targets: ConstructorParameters<typeof GrpcChannel>[0] = [config.listener];
    if (ext.cluster !== undefined) {
      // The loader checked the name; a worker built without the cluster manager cannot serve it.
      if (env.clusters === undefined) throw new Error(`${path}.ext.cluster: this worker has no cluster manager to pick "${ext.cluster}"'s hosts from`);
      targets = { cluster: ext.cluster, source: env.clusters, hashHeaders: ext.hashHeaders };
    }
    this.#channel = new GrpcChannel(
      targets,
      {
        maxConnectionsPerTarget: config.size,
        backoff: DEFAULT_CONNECT_BACKOFF,
        http2: env.http2 ?? {},
        maxMessageBytes: env.maxResponseBytes,
        ...(ext.retry !== undefined ? { retry: ext.retry } : {}),
        ...(ext.gzipMinBytes !== undefined ? { gzipMinBytes: ext.gzipMinBytes } : {}),
      },
      { dialInProcess: env.dialInProcess, placement: env.placement, offload: env.offload },
    );
  }

  async invoke(req: RpcRequest, timeoutMs: number): Promise<RpcResponse> {
    const verb = req.headers['verb'];
    const verbNumber = verb === undefined ? 0 : Math.max(0, VERB_NAMES.indexOf(verb.toUpperCase()));
    const { messageType } = await (protos ??= import('../proto.js'));
    const message = Buffer.from(
      messageType('dapr.proto.common.v1.InvokeRequest')
        .encode({
          method: req.method,
          data: { type_url: '', value: req.data },
          content_type: req.contentType,
          ...(verb !== undefined || req.headers['query_string'] !== undefined ? { http_extension: { verb: verbNumber, querystring: req.headers['query_string'] ?? '' } } : {}),
        })
        .finish(),
    );
    const deadline = Number.isFinite(timeoutMs) && timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
    this.#calls++;
    let result;
    try {
      result = await this.#channel.unary({ path: ON_INVOKE_PATH, authority: req.id || 'app', metadata: metadataOf(req), deadline }, message, req.cancel);
    } finally {
      this.#calls--;
      req.cancel.onCancel = null;
    }
    const headers = headersOf(result.headers);
    const grpcStatus = { code: result.code, message: result.message, trailers: result.trailers };
    if (result.code !== GrpcCode.OK) {
      const body = Buffer.from(result.message, 'utf8');
      return { status: HTTP_OF_CODE[result.code] ?? 500, contentType: 'text/plain; charset=utf-8', data: body, headers, grpcStatus };
    }
    if (result.body === undefined) {
      throw new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', 'the app answered OnInvoke OK without a message');
    }
    let decoded: { data?: { value?: Uint8Array }; content_type?: string };
    try {
      decoded = messageType('dapr.proto.common.v1.InvokeResponse').decode(result.body) as typeof decoded;
    } catch (err) {
      throw new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `the app's InvokeResponse does not decode: ${(err as Error).message}`);
    }
    const v = decoded.data?.value;
    const data = v === undefined ? Buffer.alloc(0) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    return { status: 200, contentType: decoded.content_type ?? '', data, headers, grpcStatus };
  }

  stats(): ChannelStats {
    const s = this.#channel.stats();
    const connections = s.targets.reduce((n, t) => n + t.connections, 0);
    return { size: this.#size, busy: Math.min(connections, this.#calls), idle: Math.max(0, connections - this.#calls), waiting: s.waiting, dialed: s.targets.reduce((n, t) => n + t.dialed, 0) };
  }

  close(): void {
    this.#channel.close();
  }
}

export class GrpcAppChannelFactory implements ChannelFactory {
  create(config: ChannelConfig, path: string, env: ChannelEnv): Channel {
    return new AppCallbackChannel(config, channelExt(grpcChannelSpec, config, path), env, path);
  }
}
