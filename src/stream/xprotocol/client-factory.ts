/**
 * Makes XClientConnections for one X-protocol codec on one worker: the upstream client the `proxy`
 * filter's pools hand out for upstream_protocol bolt, boltv2, dubbo. Sockets read into one static
 * buffer per worker (`onread`); the frame reader copies only what outlives the read.
 */
import { RingsideError } from '../../common/errors.js';
import { counter } from '../../common/counters.js';
import { dialTcp } from '../../upstream/dial.js';
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

let sharedReadBuffer: Buffer | null = null;
function readBuffer(): Buffer {
  if (sharedReadBuffer === null) sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);
  return sharedReadBuffer;
}

export interface XClientFactoryOptions {
  connectTimeoutMs(host: Host): number;
  limits?: Partial<CodecLimits>;
  /** Requests one upstream connection carries at once (default 1024). */
  maxInFlight?: number;
  keepalive?: XKeepalive;
  /** Tests: the id the first request of each connection takes. */
  firstRequestId?: number;
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
    const onread = {
      buffer: readBuffer(),
      callback: (n: number, buf: Uint8Array): boolean => {
        client?.onBytes(n === buf.length ? (buf as Buffer) : (buf as Buffer).subarray(0, n));
        return true;
      },
    };
    dialTcp(host, { connectTimeoutMs: this.#opts.connectTimeoutMs(host), onread }, (err, socket) => {
      if (err !== undefined || socket === undefined) {
        connectFailures.inc();
        done(err ?? new RingsideError('CONNECT_FAILED', 'upstream', `connect to ${host.address} failed`), undefined);
        return;
      }
      connects.inc();
      client = new XClientConnection(socket, this.#codec, events, {
        limits: { ...xLimitsOf(this.#opts.limits), maxInFlight: this.#opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT },
        keepalive: this.#opts.keepalive ?? DEFAULT_KEEPALIVE,
        ...(this.#opts.firstRequestId !== undefined ? { firstRequestId: this.#opts.firstRequestId } : {}),
      });
      done(undefined, client);
    });
  }
}
