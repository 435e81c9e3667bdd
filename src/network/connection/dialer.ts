/**
 * The one dialer: every client connection Ringside opens — an upstream HTTP/1.1 client, a tcp_proxy
 * session's upstream, a runtime channel's connection, any protocol family's client — is made here,
 * and is the same ConnectionImpl accepted connections are, with its read-loop and write-loop actors.
 *
 *   dial({target})  ─┬─ tcp  host:port ──┐
 *                    ├─ unix /path.sock ─┼─ [tls?] ─ SocketWire ─┐
 *                    └─ pipe listener ───── RingPipe end ─ RingWire ┴─ ConnectionImpl (read + write actors)
 *
 * Plain sockets read into the thread's static onread buffer from the first byte. A TLS socket reads
 * through 'data' events: node:tls decrypts into its own buffers, so onread cannot apply there.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ConnectionEvent } from '../../types/network.js';
import type { ClientTlsOptions, DialTarget, FilterChainBuilder } from '../../types/network.js';
import type { RunLoop } from '../../types/actor.js';
import type { RingEndpoint } from '../../types/ring.js';
import { RingsideError } from '../../common/errors.js';
import { CHANNEL_ADDRESS, parseAddress } from '../../common/address.js';
import { ConnectionImpl } from './connection.js';
import { countHandshake, reasonOf } from '../tls/stats.js';

export interface DialOptions {
  readonly target: DialTarget;
  /** Cluster or channel name (shown as the connection's listenerName). */
  readonly name: string;
  readonly runLoop: RunLoop;
  /** Connect (and TLS handshake) timeout in ms; 0 or absent: the OS's. Not used for pipes. */
  readonly connectTimeoutMs?: number | undefined;
  /** 0 or absent: no idle timeout. */
  readonly idleTimeoutMs?: number | undefined;
  /** TLS over a tcp or unix target; Connected then means the handshake (and verification) passed. */
  readonly tls?: ClientTlsOptions | undefined;
  /** Dials an in-process listener by name (the worker's, placed by the scheduler); needed for pipe targets. */
  readonly dialInProcess?: ((listener: string) => RingEndpoint) | undefined;
  /**
   * Adds the connection's filters and event listeners before any byte can arrive. It runs before
   * the connect starts, so Connected / ConnectFailed always reach listeners added here.
   */
  readonly init?: ((connection: ConnectionImpl, chain: FilterChainBuilder) => void) | undefined;
}

/**
 * A channel's `listener` as a dial target, read by the one address grammar (src/common/address.ts):
 * host:port → tcp, a socket path (`/…`, `./…`, `unix:…`) → unix, a bare name → the in-process
 * listener of that name. Throws on what the config loader would have refused.
 */
export function parseDialTarget(address: string): DialTarget {
  const r = parseAddress(address, CHANNEL_ADDRESS);
  if (!r.ok) throw new Error(`not a dial target: ${r.message}`);
  const ep = r.value;
  switch (ep.kind) {
    case 'tcp':
      return { kind: 'tcp', host: ep.host, port: ep.port };
    case 'unix':
      return { kind: 'unix', path: ep.path };
    case 'inprocess':
      return { kind: 'pipe', listener: ep.name };
    case 'drpc':
      throw new Error(`not a dial target: "${address}" is a dRPC listener address`);
  }
}

/** Where a cluster's host is dialed: the one target the pools' clients and the health checks share. */
export function hostTarget(host: { readonly host: string; readonly port: number }): Extract<DialTarget, { kind: 'tcp' }> {
  return { kind: 'tcp', host: host.host, port: host.port };
}

export function describeTarget(target: DialTarget): string {
  switch (target.kind) {
    case 'tcp':
      return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
    case 'unix':
      return target.path;
    case 'pipe':
      return `in-process listener "${target.listener}"`;
  }
}

/**
 * Dials the target. The connection reports Connected, or ConnectFailed followed by its close.
 * Throws only for a pipe target that cannot be dialed at all (no such listener): nothing was opened.
 */
export function dial(opts: DialOptions): ConnectionImpl {
  const target = opts.target;
  if (target.kind === 'pipe') return dialPipe(target.listener, opts);
  const connectOpts: net.NetConnectOpts = target.kind === 'tcp' ? { host: target.host, port: target.port } : { path: target.path };
  let conn: ConnectionImpl;
  let socket: net.Socket;
  const connectionOptions = {
    listenerName: opts.name,
    runLoop: opts.runLoop,
    ...(opts.idleTimeoutMs !== undefined ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
  };
  if (opts.tls !== undefined) {
    // The handshake starts on connect; nothing can be read before the listeners below are on.
    const servername = opts.tls.servername ?? (target.kind === 'tcp' && net.isIP(target.host) === 0 ? target.host : undefined);
    socket = tls.connect({ ...opts.tls, ...connectOpts, ...(servername !== undefined ? { servername } : {}) } as tls.ConnectionOptions);
    conn = ConnectionImpl.fromDialedSocket(socket, connectionOptions, false);
  } else {
    // The read callback needs the connection, the connection needs the socket: bind through a box.
    const box: { conn: ConnectionImpl | null } = { conn: null };
    socket = new net.Socket({
      allowHalfOpen: true,
      onread: ConnectionImpl.onreadOption({ onRead: (data, borrowed) => box.conn?.onRead(data, borrowed) }),
    } as net.SocketConstructorOpts);
    conn = ConnectionImpl.fromDialedSocket(socket, connectionOptions, true);
    box.conn = conn;
  }
  opts.init?.(conn, conn.filters);
  conn.initializeFilters();

  let settled = false;
  let timer: NodeJS.Timeout | null = null;
  const fail = (reason: string): void => {
    if (settled) return;
    settled = true;
    if (timer !== null) clearTimeout(timer);
    conn.emitEvent(ConnectionEvent.ConnectFailed, reason);
    socket.destroy();
  };
  // A TLS dial that reached the peer and then failed failed in the handshake (or its verification).
  let tcpConnected = false;
  socket.once('error', (err: NodeJS.ErrnoException) => {
    if (opts.tls !== undefined && tcpConnected && !settled) countHandshake('upstream', opts.name, reasonOf(err));
    fail(err.code ?? err.message);
  });
  const onConnected = (): void => {
    if (settled) return;
    settled = true;
    if (timer !== null) clearTimeout(timer);
    socket.setNoDelay(true);
    conn.emitEvent(ConnectionEvent.Connected);
  };
  const ms = opts.connectTimeoutMs ?? 0;
  if (ms > 0) {
    timer = setTimeout(() => {
      if (opts.tls !== undefined && tcpConnected && !settled) countHandshake('upstream', opts.name, 'ERR_TLS_HANDSHAKE_TIMEOUT');
      fail(`connect timeout after ${ms} ms`);
    }, ms);
    timer.unref();
  }
  if (opts.tls !== undefined) {
    socket.once('connect', () => {
      tcpConnected = true;
    });
    (socket as tls.TLSSocket).once('secureConnect', () => {
      if (!settled) countHandshake('upstream', opts.name, 'ok');
      onConnected();
    });
  } else {
    socket.once('connect', onConnected);
    socket.connect(connectOpts);
  }
  return conn;
}

function dialPipe(listener: string, opts: DialOptions): ConnectionImpl {
  if (opts.dialInProcess === undefined) {
    throw new RingsideError('UNAVAILABLE', 'internal', `no in-process listener table on this worker to dial "${listener}"`);
  }
  let endpoint: RingEndpoint;
  try {
    endpoint = opts.dialInProcess(listener);
  } catch (err) {
    throw new RingsideError('UNAVAILABLE', 'internal', `cannot dial in-process listener "${listener}": ${(err as Error).message}`, { cause: err });
  }
  const conn = ConnectionImpl.fromRingEndpoint(endpoint, {
    listenerName: opts.name,
    runLoop: opts.runLoop,
    ...(opts.idleTimeoutMs !== undefined ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
  });
  opts.init?.(conn, conn.filters);
  conn.initializeFilters();
  // A pipe is connected once dialed; the event still comes after dial() returns, as a socket's does.
  queueMicrotask(() => {
    if (!conn.closed) conn.emitEvent(ConnectionEvent.Connected);
  });
  return conn;
}

/**
 * Dials for a client that wants a ready connection: done runs once, with the connection once it is
 * connected (TLS: handshake done), or with CONNECT_FAILED (retryable: nothing reached the peer).
 * A pipe target that cannot be dialed fails the same way, on a later tick.
 */
export function dialClient(opts: DialOptions, done: (err: RingsideError | undefined, conn: ConnectionImpl | undefined) => void): void {
  let settled = false;
  const settle = (err: RingsideError | undefined, conn: ConnectionImpl | undefined): void => {
    if (settled) return;
    settled = true;
    done(err, conn);
  };
  const what = describeTarget(opts.target);
  try {
    dial({
      ...opts,
      init: (conn, chain) => {
        opts.init?.(conn, chain);
        conn.addEventListener((event, reason) => {
          if (event === ConnectionEvent.Connected) settle(undefined, conn);
          else if (event === ConnectionEvent.ConnectFailed || event === ConnectionEvent.LocalClose || event === ConnectionEvent.RemoteClose) {
            settle(new RingsideError('CONNECT_FAILED', 'upstream', `connect to ${what} failed: ${reason ?? 'closed'}`, { retryable: true }), undefined);
          }
        });
      },
    });
  } catch (err) {
    const e = err instanceof RingsideError ? err : new RingsideError('CONNECT_FAILED', 'upstream', `connect to ${what} failed: ${(err as Error).message}`, { retryable: true });
    queueMicrotask(() => settle(new RingsideError('CONNECT_FAILED', 'upstream', e.message, { retryable: true, cause: err }), undefined));
  }
}
