/**
 * What every `proxy` filter instance of a worker shares: the router it was configured with, the
 * cluster manager, the upstream client factory of its upstream protocol, and the proxy's settings.
 * Built once per filter config on each worker; requests only read it.
 */
import type { ClusterManager } from '../upstream/cluster-manager.js';
import type { Router } from '../types/router.js';
import type { Host, LoadBalancerContext } from '../types/upstream.js';
import type { StreamClientFactory } from '../types/proxy.js';
import type { AccessLog } from '../types/accesslog.js';
import type { ProtocolCodec, ProxyHooks } from '../types/protocol.js';
import { RingsideError } from '../common/errors.js';

export interface ProxySettings {
  /** Timeout of a request whose route sets none, in ms (MOSN's global timeout); 0 for none. */
  globalTimeoutMs: number;
  /** Append the downstream peer to X-Forwarded-For. */
  xForwardedFor: boolean;
  /** Via value to add ("1.1 ringside"); empty for none. */
  via: string;
  /** Request bytes held so a retry can resend them; a larger body is streamed and not retried. */
  retryBufferBytes: number;
}

export const defaultProxySettings: ProxySettings = {
  globalTimeoutMs: 60_000,
  xForwardedFor: true,
  via: '',
  retryBufferBytes: 64 * 1024,
};

export class ProxyRuntime implements ProxySettings {
  readonly router: Router;
  readonly clusterManager: ClusterManager;
  /** The filter's upstream client; null under Auto without upstream_protocol (the request's own protocol). */
  readonly clientFactory: StreamClientFactory | null;
  readonly globalTimeoutMs: number;
  readonly xForwardedFor: boolean;
  readonly via: string;
  readonly retryBufferBytes: number;
  /** The listener's access logs; undefined when it has none. */
  readonly accessLog: AccessLog | undefined;
  readonly #clients: { get(protocol: string): StreamClientFactory | undefined } | undefined;
  readonly #codecs: { get(protocol: string): ProtocolCodec | undefined };
  readonly #xprotocols: { has(protocol: string): boolean } | undefined;
  /** The last protocol asked for: a listener serves one protocol, so the lookup is usually skipped. */
  #lastProtocol = '';
  #lastHooks: ProxyHooks | null = null;

  constructor(
    router: Router,
    clusterManager: ClusterManager,
    clientFactory: StreamClientFactory | null,
    settings: ProxySettings,
    codecs: { get(protocol: string): ProtocolCodec | undefined },
    extras: {
      accessLog?: AccessLog | undefined;
      clients?: { get(protocol: string): StreamClientFactory | undefined };
      xprotocols?: { has(protocol: string): boolean } | undefined;
    } = {},
  ) {
    this.#xprotocols = extras.xprotocols;
    this.#codecs = codecs;
    this.accessLog = extras.accessLog;
    this.#clients = extras.clients;
    this.router = router;
    this.clusterManager = clusterManager;
    this.clientFactory = clientFactory;
    this.globalTimeoutMs = settings.globalTimeoutMs;
    this.xForwardedFor = settings.xForwardedFor;
    this.via = settings.via;
    this.retryBufferBytes = settings.retryBufferBytes;
  }

  /** The proxy hooks of a registered codec (the request's or the response's protocol). */
  hooks(protocol: string): ProxyHooks {
    if (protocol === this.#lastProtocol && this.#lastHooks !== null) return this.#lastHooks;
    const codec = this.#codecs.get(protocol);
    if (codec === undefined) throw new Error(`no codec "${protocol}" is registered for the proxy`);
    this.#lastProtocol = protocol;
    this.#lastHooks = codec.proxy;
    return codec.proxy;
  }

  /** The load balancer's view of a request; `exclude` is the host a failed try used. */
  lbContext(request: { header(name: string): string | undefined; readonly hashKey?: string | undefined }, exclude?: Host): LoadBalancerContext {
    const hashKey = request.hashKey;
    return exclude === undefined ? { header: (n) => request.header(n), hashKey } : { header: (n) => request.header(n), hashKey, excludeHost: exclude };
  }

  /**
   * The upstream client of the route's upstream_protocol (validated at load), else the filter's, else
   * (Auto) the one of the request's own protocol.
   */
  clientFor(route: { readonly upstreamProtocol: string | undefined }, requestProtocol: string): StreamClientFactory {
    const p = route.upstreamProtocol;
    const chosen = (p === undefined ? undefined : this.#clients?.get(p)) ?? this.clientFactory ?? this.#clients?.get(requestProtocol);
    if (chosen === undefined || chosen === null) throw new Error(`no upstream client for protocol "${requestProtocol}"`);
    const x = this.#xprotocols;
    if (chosen.protocol !== requestProtocol && x !== undefined && (x.has(chosen.protocol) || x.has(requestProtocol))) {
      // A route's upstream_protocol override: X-protocol frames are not transcoded.
      throw new RingsideError('BAD_REQUEST', 'internal', `a ${requestProtocol} request cannot be sent upstream as ${chosen.protocol}`, { retryable: false });
    }
    return chosen;
  }
}
