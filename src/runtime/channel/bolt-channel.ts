/**
 * Layotto's `bolt` and `boltv2` channels on the request-id channel machinery (xchannel.ts: a pool of
 * `size` connections multiplexed by request id, heartbeats, per-call timeouts, oneway, per-target
 * pools). Each call is one bolt request frame (v1 for `bolt`, v2 for `boltv2`) written by the same
 * codec the proxy uses, with the connection's next id and the call's timeout in its timeout field.
 *
 * - Opaque (Layotto's behaviour): the request's class name is `ext.class`, its header map the call's
 *   metadata (Layotto's control keys removed), its content `data` exactly as the caller encoded it;
 *   the answer is the response content, with the response's header map as response metadata.
 * - `application/json`: the channel builds a SOFARPC request — class
 *   `com.alipay.sofa.rpc.core.request.SofaRequest` (the one class a SOFARPC server decodes as a call),
 *   header `service` = the RPC id, a SofaRequest for `targetServiceUniqueName = id`, `methodName =
 *   method` and the arguments with their Java types — and answers the SofaResponse's result as JSON.
 *   Bodies of at least `json_offload_min_bytes` are transcoded on the worker's offload pool.
 *
 * Statuses as Layotto maps them: SUCCESS is the answer; SERVER_DESERIAL_EXCEPTION,
 * SERVER_SERIAL_EXCEPTION and CODEC_EXCEPTION are INTERNAL; any other is UNAVAILABLE, each
 * `bolt error code N` (a JSON call adds the error message the SofaResponse carries).
 */
import { RingsideError } from '../../common/errors.js';
import { BoltStatus, HEADER_METHOD, HEADER_SERVICE, SOFA_REQUEST_CLASS } from '../../protocol/bolt/constants.js';
import { boltCodec, boltRequest, boltv2Codec } from '../../protocol/bolt/codec.js';
import type { OffloadRunner } from '../../types/offload.js';
import type { Channel, ChannelEnv, RpcResponse, RpcResponseHeaders } from '../../types/runtime.js';
import type { XAnswer, XAnswerReader, XCall, XChannelProtocol } from '../../types/xchannel.js';
import type { XProtocolCodec, XResponse } from '../../types/xprotocol.js';
import type { ChannelConfig, ChannelFactory } from './factory.js';
import type { BoltChannelExt } from './specs.js';
import { boltJsonContent, boltResultOutcome } from './bolt-json.js';
import { codecAnswerReader } from './codec-reader.js';
import { XChannel } from './xchannel.js';
import { decodeOutcome, offloadError } from './x-json.js';
import { Outcome } from './dubbo-json.js';

/** Layotto's names for the statuses it calls out. */
const INTERNAL_STATUSES = new Map<number, string>([
  [BoltStatus.SERVER_DESERIAL_EXCEPTION, 'ServerDeserializeException'],
  [BoltStatus.SERVER_SERIAL_EXCEPTION, 'ServerSerializeException'],
  [BoltStatus.CODEC_EXCEPTION, 'CodecException'],
]);

/** A non-SUCCESS bolt status as the error Layotto answers it with. */
export function boltStatusError(status: number, detail = ''): RingsideError {
  const internal = INTERNAL_STATUSES.get(status);
  const more = detail === '' ? '' : `: ${detail}`;
  if (internal !== undefined) return new RingsideError('INTERNAL', 'upstream', `bolt error code ${status}, ${internal}${more}`, { status, retryable: false });
  return new RingsideError('UPSTREAM_STATUS', 'upstream', `bolt error code ${status}${more}`, { status, retryable: false });
}

/** For a JSON call, the error message a failed SofaResponse carries (SOFARPC writes one with SERVER_EXCEPTION). */
function failureDetail(content: Buffer): string {
  if (content.length === 0 || content.length > 65536) return '';
  const outcome = boltResultOutcome(content);
  return outcome[0] === Outcome.EXCEPTION ? outcome.toString('utf8', 1, Math.min(outcome.length, 1025)) : '';
}

function responseHeaders(res: XResponse): RpcResponseHeaders {
  const out: RpcResponseHeaders = {};
  res.headers.forEach((k, v) => {
    const name = k.toLowerCase();
    (out[name] ??= []).push(v);
  });
  return out;
}

class BoltChannelProtocol implements XChannelProtocol {
  readonly name: string;
  readonly #codec: XProtocolCodec;
  readonly #className: string;
  readonly #offload: OffloadRunner | undefined;
  readonly #offloadMin: number;

  constructor(codec: XProtocolCodec, ext: BoltChannelExt, offload: OffloadRunner | undefined) {
    this.name = codec.name;
    this.#codec = codec;
    this.#className = ext.className;
    this.#offload = offload;
    this.#offloadMin = ext.jsonOffloadMinBytes;
  }

  body(call: XCall): Buffer | Promise<Buffer> {
    const req = call.req;
    if (!call.json) return req.data;
    const task = { data: req.data, id: req.id, method: req.method, props: { ...call.headers } };
    if (this.#offload !== undefined && req.data.length >= this.#offloadMin) {
      return this.#offload.run({ kind: 'bolt.encode_json', ...task }).then(
        (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        (err: unknown) => Promise.reject(offloadError(err)),
      );
    }
    return boltJsonContent(task);
  }

  frame(call: XCall, id: number, body: Buffer): Buffer {
    const headers = call.json ? { [HEADER_SERVICE]: call.req.id, [HEADER_METHOD]: call.req.method, ...call.headers } : call.headers;
    const req = boltRequest(this.#codec, {
      className: call.json ? SOFA_REQUEST_CLASS : this.#className,
      headers,
      content: body,
      timeoutMs: call.timeoutMs,
      oneway: call.oneway,
    });
    req.requestId = id;
    return this.#codec.encode(req);
  }

  reader(onAnswer: (a: XAnswer) => void, onError: (err: RingsideError) => void, maxBytes: number, reply: (b: Buffer) => void): XAnswerReader {
    return codecAnswerReader(this.#codec, onAnswer, onError, maxBytes, reply);
  }

  toResponse(frame: unknown, call: XCall): RpcResponse | Promise<RpcResponse> {
    const res = frame as XResponse;
    if (res.status !== BoltStatus.SUCCESS) throw boltStatusError(res.status, call.json ? failureDetail(res.content) : '');
    const headers = responseHeaders(res);
    if (!call.json) return { status: 200, contentType: '', data: res.content, headers };
    const answer = (outcome: Uint8Array): RpcResponse => ({ ...decodeOutcome(outcome, this.name), headers });
    if (this.#offload !== undefined && res.content.length >= this.#offloadMin) {
      return this.#offload.run({ kind: 'bolt.decode_json', data: res.content }).then(answer);
    }
    return answer(boltResultOutcome(res.content));
  }

  heartbeat(id: number): Buffer {
    return this.#codec.encode(this.#codec.heartbeat(id));
  }
}

/** Registered as channel protocols "bolt" and "boltv2". */
export class BoltChannelFactory implements ChannelFactory {
  readonly #codec: XProtocolCodec;
  readonly #parse: (config: ChannelConfig, path: string) => BoltChannelExt;

  constructor(version: 'bolt' | 'boltv2', parse: (config: ChannelConfig, path: string) => BoltChannelExt) {
    this.#codec = version === 'bolt' ? boltCodec : boltv2Codec;
    this.#parse = parse;
  }

  create(config: ChannelConfig, path: string, env: ChannelEnv): Channel {
    return new XChannel(config, env, new BoltChannelProtocol(this.#codec, this.#parse(config, path), env.offload));
  }
}
