/**
 * The `proxy` network filter (MOSN's proxy): config keys downstream_protocol, upstream_protocol and
 * router_config_name. Per connection it builds the downstream protocol's ServerStreamConnection and
 * feeds it every byte; each request becomes a DownstreamRequest (the phase machine).
 *
 * downstream_protocol "Auto" looks at the first bytes of the connection and asks each registered
 * codec's detect() which protocol it speaks, as MOSN's auto protocol does. Without upstream_protocol
 * each connection goes upstream in the protocol detected; with one, only codecs that can be sent as
 * it are detected (HTTP codecs for an HTTP upstream — an X-protocol frame is never transcoded).
 * `X` with extend_config.sub_protocol is MOSN's older name for an X-protocol codec.
 */
import { parseProxyFilterConfig, proxyProtocols } from '../config/filters.js';
import { ConfigError } from '../config/errors.js';
import { RingsideError } from '../common/errors.js';
import type { Registry } from '../common/registry.js';
import { logger } from '../common/log.js';
import {
  CloseMode,
  FilterStatus,
  type Connection,
  type FactoryContext,
  type FilterChainBuilder,
  type NetworkFilterFactory,
  type ReadFilter,
  type ReadFilterCallbacks,
} from '../types/network.js';
import type { CodecLimits, ProtocolCodec } from '../types/protocol.js';
import type { Http2Settings } from '../types/http2.js';
import type {
  ServerStreamConnection,
  ServerStreamConnectionFactory,
  ServerStreamConnectionOptions,
  StreamFilterChainFactory,
} from '../types/stream.js';
import type { Router } from '../types/router.js';
import type { StreamClientFactory } from '../types/proxy.js';
import type { AccessLog } from '../types/accesslog.js';
import type { ClusterManager } from '../upstream/cluster-manager.js';
import { DownstreamRequest } from './downstream.js';
import type { DownstreamDrain } from '../stream/drain.js';
import { ProxyRuntime, defaultProxySettings, type ProxySettings } from './runtime.js';

const log = logger('proxy');
const AUTO = 'Auto';
/** Bytes Auto detection waits for at most before it gives up on a connection. */
const MAX_DETECT_BYTES = 64;
/** The codec each ALPN protocol id names. */
const ALPN_CODECS: Readonly<Record<string, string>> = { h2: 'Http2', 'http/1.1': 'Http1' };

/** What the proxy filter needs from the worker (the composition root, src/assembly.ts, builds it). */
export interface ProxyServices {
  readonly routers: { get(name: string): Router | undefined };
  readonly clusterManager: ClusterManager;
  readonly codecs: Registry<ProtocolCodec>;
  readonly streamConnections: Registry<ServerStreamConnectionFactory>;
  /** One client factory per upstream protocol on this worker. */
  readonly upstreamClients: Registry<StreamClientFactory>;
  /** Stream filters of each listener (its `stream_filters`), already validated. */
  readonly listenerStreamFilters: ReadonlyMap<string, readonly StreamFilterChainFactory[]>;
  readonly codecLimits?: Partial<CodecLimits>;
  /** ringside.http2: limits and windows of HTTP/2 downstream connections. */
  readonly http2Settings?: Partial<Http2Settings>;
  readonly proxySettings?: Partial<ProxySettings>;
  /** Access logs of each listener that has `access_logs`. */
  readonly accessLogs?: ReadonlyMap<string, AccessLog>;
  /** ringside.limits that bound what one downstream can make Ringside hold; absent ones are off. */
  readonly downstreamLimits?: Partial<DownstreamLimits>;
  /** The worker's downstream connections, told to go away on drain. */
  readonly downstreamDrain?: DownstreamDrain;
  /** The request-id codecs: they are sent upstream only as themselves. */
  readonly xprotocols?: { has(name: string): boolean };
}

export interface DownstreamLimits {
  /** Requests one listener holds at once on this worker; more are answered 503. */
  readonly maxPendingRequests: number;
  /** HTTP/1.1 requests one connection may have unanswered; the next is answered 503 and ends it. */
  readonly maxPipelinedRequests: number;
  /** A request head must be complete this long after its first byte (408 otherwise); 0 = no limit. */
  readonly requestHeaderTimeoutMs: number;
  /** Idle timeout of connections whose listener sets none; 0 = none. */
  readonly idleTimeoutMs: number;
}

function fail(path: string, key: string, message: string): never {
  throw new ConfigError(`filter config at ${path}`, [{ path: `${path}.${key}`, message }]);
}

export const proxyFilterFactory: NetworkFilterFactory<ProxyServices> = {
  create(raw: unknown, path: string, ctx: FactoryContext<ProxyServices>) {
    const { config, warnings } = parseProxyFilterConfig(raw, path);
    for (const w of warnings) log.warn(w);
    const services = ctx.services;
    const router = services.routers.get(config.router_config_name);
    if (router === undefined) fail(path, 'router_config_name', `no router named "${config.router_config_name}"`);
    const { downstream, upstream } = proxyProtocols(config);
    if (downstream !== AUTO && !services.streamConnections.has(downstream)) {
      fail(path, 'downstream_protocol', `no codec serves "${downstream}" (known: ${services.streamConnections.names().join(', ')}, ${AUTO})`);
    }
    // Auto without an upstream protocol: each request goes upstream in its own protocol.
    const clientFactory = upstream === AUTO ? null : services.upstreamClients.get(upstream);
    if (clientFactory === undefined) {
      fail(path, 'upstream_protocol', `no upstream client for "${upstream}" (known: ${services.upstreamClients.names().join(', ')})`);
    }
    const xprotocols = services.xprotocols;
    const isX = (name: string): boolean => xprotocols?.has(name) === true;
    // What Auto may detect: everything, or what can be sent as the configured upstream protocol.
    const detectable = services.streamConnections
      .names()
      .filter((n) => clientFactory === null || (isX(upstream) ? n === upstream : !isX(n)));
    const rt = new ProxyRuntime(
      router,
      services.clusterManager,
      clientFactory,
      { ...defaultProxySettings, ...services.proxySettings },
      services.codecs,
      { accessLog: services.accessLogs?.get(ctx.listenerName), clients: services.upstreamClients, xprotocols: services.xprotocols },
    );
    const dl = services.downstreamLimits ?? {};
    const options: ServerStreamConnectionOptions = {
      handlerFactory: (stream, sender) => new DownstreamRequest(rt, stream, sender),
      filters: services.listenerStreamFilters.get(ctx.listenerName) ?? [],
      ...(services.codecLimits !== undefined ? { limits: services.codecLimits } : {}),
      ...(services.http2Settings !== undefined ? { http2: services.http2Settings } : {}),
      ...(services.downstreamDrain !== undefined ? { drain: services.downstreamDrain } : {}),
      ...(dl.maxPipelinedRequests !== undefined ? { maxPipelined: dl.maxPipelinedRequests } : {}),
      ...(dl.requestHeaderTimeoutMs !== undefined ? { requestHeaderTimeoutMs: dl.requestHeaderTimeoutMs } : {}),
      // One budget per listener per worker, shared by all its connections.
      ...(dl.maxPendingRequests !== undefined
        ? { pendingBudget: { held: 0, max: dl.maxPendingRequests, refused: 0, listenerName: ctx.listenerName } }
        : {}),
    };
    const idleMs = dl.idleTimeoutMs ?? 0;
    return (_connection: Connection, chain: FilterChainBuilder) => {
      chain.addReadFilter(new ProxyReadFilter(services, downstream, options, idleMs, detectable));
    };
  },
};

/** The read filter: bytes in → the stream connection; it always answers Stop (it is the terminal filter). */
class ProxyReadFilter implements ReadFilter {
  readonly #services: ProxyServices;
  readonly #protocol: string;
  readonly #options: ServerStreamConnectionOptions;
  readonly #defaultIdleMs: number;
  readonly #detectable: readonly string[];
  #callbacks!: ReadFilterCallbacks;
  #streams: ServerStreamConnection | null = null;
  /** Auto detection: bytes seen before the protocol is known (copied: read buffers are reused). */
  #pending: Buffer | null = null;

  constructor(services: ProxyServices, protocol: string, options: ServerStreamConnectionOptions, defaultIdleMs: number, detectable: readonly string[]) {
    this.#services = services;
    this.#detectable = detectable;
    this.#protocol = protocol;
    this.#options = options;
    this.#defaultIdleMs = defaultIdleMs;
  }

  initializeReadFilterCallbacks(callbacks: ReadFilterCallbacks): void {
    this.#callbacks = callbacks;
  }

  onNewConnection(): FilterStatus {
    // A client may half-close once its request is sent (RFC 9112 §9.6); it still waits for the answer,
    // so the stream connection, not the FIN, decides when the connection closes.
    const connection = this.#callbacks.connection;
    connection.enableHalfClose?.(true);
    // A keep-alive client that never sends again must not hold its connection forever.
    if (this.#defaultIdleMs > 0 && (connection.idleTimeoutMs ?? 0) === 0) connection.setIdleTimeout?.(this.#defaultIdleMs);
    // A TLS client that agreed on a protocol through ALPN speaks it: Auto takes it without looking at
    // bytes; a fixed protocol that differs cannot serve the connection.
    const alpn = ALPN_CODECS[connection.alpnProtocol ?? ''];
    if (alpn !== undefined && this.#protocol === AUTO && this.#detectable.includes(alpn)) {
      this.#streams = this.#build(alpn);
    } else if (alpn !== undefined && this.#protocol !== AUTO && alpn !== this.#protocol) {
      log.debug(`connection ${connection.id}: ALPN chose ${connection.alpnProtocol ?? ''} but the proxy serves ${this.#protocol}; closing`);
      connection.close(CloseMode.NoFlush, `ALPN ${connection.alpnProtocol ?? ''} does not match downstream_protocol ${this.#protocol}`);
    } else if (this.#protocol !== AUTO) {
      this.#streams = this.#build(this.#protocol);
    }
    return FilterStatus.Continue;
  }

  onData(data: Buffer, endOfStream: boolean): FilterStatus {
    const streams = this.#streams ?? this.#detect(data, endOfStream);
    if (streams !== null) streams.onData(this.#takePending(data), endOfStream);
    return FilterStatus.Stop;
  }

  onActorCrash(error: unknown): void {
    // The peer learns only that it was an internal error; the details went to the log with the crash.
    const err = new RingsideError('INTERNAL', 'internal', 'internal error while serving this connection', { cause: error, retryable: false });
    if (this.#streams !== null) this.#streams.abort(err);
    else this.#callbacks.connection.close(CloseMode.NoFlush, err.message);
  }

  #build(protocol: string): ServerStreamConnection {
    return this.#services.streamConnections.require(protocol)(this.#callbacks.connection, this.#options);
  }

  #detect(data: Buffer, endOfStream: boolean): ServerStreamConnection | null {
    const first = this.#pending === null ? data : Buffer.concat([this.#pending, data]);
    let needMore = false;
    for (const name of this.#detectable) {
      const verdict = this.#services.codecs.get(name)?.detect(first) ?? 'no';
      if (verdict === 'match') {
        this.#streams = this.#build(name);
        return this.#streams;
      }
      if (verdict === 'need-more') needMore = true;
    }
    if (needMore && first.length < MAX_DETECT_BYTES && !endOfStream) {
      this.#pending = Buffer.from(first);
      return null;
    }
    log.debug(`connection ${this.#callbacks.connection.id}: no codec recognises the first bytes; closing`);
    this.#callbacks.connection.close(CloseMode.NoFlush, 'protocol not recognised');
    return null;
  }

  #takePending(data: Buffer): Buffer {
    const pending = this.#pending;
    if (pending === null) return data;
    this.#pending = null;
    return Buffer.concat([pending, data]);
  }
}
