/**
 * Makes XClientConnections for one X-protocol codec on one worker: the upstream client the `proxy`
 * filter's pools hand out for upstream_protocol bolt, boltv2, dubbo. Connections are the dialer's
 * (read and write loops on the worker's run loop); each read is told to the client's upstream.phase
 * actor, whose frame reader copies only what outlives it.
 */
import { RingsideError } from '../../common/errors.js';
import { counter } from '../../common/counters.js';
import { dialClient, hostTarget } from '../../network/connection/dialer.js';
import type { ConnectionImpl } from '../../network/connection/connection.js';
import { threadRunLoop } from '../../actor/run-loop.js';
import { CloseMode, ConnectionEvent, FilterStatus, type ClientTlsOptions, type ReadFilter } from '../../types/network.js';
import type { RunLoop } from '../../types/actor.js';
import type { CodecLimits } from '../../types/protocol.js';
import type { StreamClientFactory } from '../../types/proxy.js';
import type { ConnectCallback, Host, UpstreamClientEvents } from '../../types/upstream.js';
import type { XKeepalive, XProtocolCodec } from '../../types/xprotocol.js';
import { xLimitsOf } from '../../protocol/xprotocol/codec.js';
import { XClientConnection } from './client-connection.js';
import { DEFAULT_MAX_IN_FLIGHT } from './server-connection.js';

const connects = counter('xprotocol.upstream.cx_total');
const connectFailures = counter('xprotocol.upstream.cx_connect_fail');

/** MOSN's bolt keepalive: a heartbeat after 15 s of silence, the connection dead after 90 s. */
export const DEFAULT_KEEPALIVE: XKeepalive = { intervalMs: 15_000, deadAfterMs: 90_000 };

export interface XClientFactoryOptions {
  connectTimeoutMs(host: Host): number;
  limits?: Partial<CodecLimits>;
  /** The worker's run loop (the connection's read and write loops run there); default the thread's. */
  runLoop?: RunLoop;
  /** Requests one upstream connection carries at once (default 1024). */
  maxInFlight?: number;
  keepalive?: XKeepalive;
  /** Tests: the id the first request of each connection takes. */
  firstRequestId?: number;
  /** TLS toward a host (its cluster's tls_context); undefined: plain TCP. */
  tls?(host: Host): ClientTlsOptions | undefined;
}

export class XClientFactory implements StreamClientFactory {
  readonly protocol: string;
  /** Clients carry many requests at once: the cluster manager gives them a multiplexed pool. */
  readonly multiplexed = true;
  readonly #codec: XProtocolCodec;
  readonly #opts: XClientFactoryOptions;

  constructor(codec: XProtocolCodec, opts: XClientFactoryOptions) {
    this.protocol = codec.name;
    this.#codec = codec;
    this.#opts = opts;
  }

  connect(host: Host, events: UpstreamClientEvents, done: ConnectCallback): void {
    let client: XClientConnection | null = null;
    const init = (conn: ConnectionImpl, chain: { addReadFilter(f: ReadFilter): void }): void => {
      chain.addReadFilter({
        initializeReadFilterCallbacks() {},
        onNewConnection: () => FilterStatus.Continue,
        onData: (data, endOfStream) => {
          client?.onRead(data, endOfStream);
          return FilterStatus.Stop;
        },
      });
      conn.addEventListener((event, reason) => {
        if (event === ConnectionEvent.LocalClose || event === ConnectionEvent.RemoteClose) client?.onTransportClosed(`upstream connection closed${reason !== undefined ? `: ${reason}` : ''}`);
      });
    };
    const runLoop = this.#opts.runLoop ?? threadRunLoop();
    dialClient({ target: hostTarget(host), name: host.clusterName, runLoop, connectTimeoutMs: this.#opts.connectTimeoutMs(host), tls: this.#opts.tls?.(host), init }, (err, socket) => {
      if (err !== undefined || socket === undefined) {
        connectFailures.inc();
        done(err ?? new RingsideError('CONNECT_FAILED', 'upstream', `connect to ${host.address} failed`), undefined);
        return;
      }
      connects.inc();
      const transport = { write: (b: Buffer) => socket.write(b), destroy: (reason: string) => socket.close(CloseMode.NoFlush, reason) };
      client = new XClientConnection(transport, this.#codec, events, {
        limits: { ...xLimitsOf(this.#opts.limits), maxInFlight: this.#opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT },
        keepalive: this.#opts.keepalive ?? this.#codec.keepalive ?? DEFAULT_KEEPALIVE,
        ...(this.#opts.firstRequestId !== undefined ? { firstRequestId: this.#opts.firstRequestId } : {}),
        runLoop,
      });
      done(undefined, client);
    });
  }
}
