/**
 * Client (upstream) connections: the same Connection, read and write loops as accepted ones, over a
 * socket Ringside creates with the onread static buffer from the start.
 */
import net from 'node:net';
import { ConnectionEvent } from '../../types/network.js';
import type { FilterChainBuilder } from '../../types/network.js';
import type { RunLoop } from '../../types/actor.js';
import { ConnectionImpl } from './connection.js';
import { SocketWire } from './wire.js';

export interface DialOptions {
  host: string;
  port: number;
  /** Cluster name (shown as the connection's listenerName). */
  name: string;
  runLoop: RunLoop;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  /**
   * Adds the connection's filters and event listeners before any byte can arrive. It runs before
   * the connect starts, so Connected / ConnectFailed always reach listeners added here.
   */
  init?: (connection: ConnectionImpl, chain: FilterChainBuilder) => void;
}

/** Dials host:port; the result reports Connected, or ConnectFailed followed by the close. */
export function dialTcp(opts: DialOptions): ConnectionImpl {
  // The read callback needs the connection, the connection needs the socket: bind through a box.
  const box: { conn: ConnectionImpl | null } = { conn: null };
  const socket = new net.Socket({
    allowHalfOpen: true,
    onread: SocketWire.onreadOption({ onRead: (data, borrowed) => box.conn?.onRead(data, borrowed) }),
  } as net.SocketConstructorOpts);
  const conn = ConnectionImpl.fromOwnSocket(socket, {
    listenerName: opts.name,
    runLoop: opts.runLoop,
    ...(opts.idleTimeoutMs !== undefined ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
  });
  box.conn = conn;
  opts.init?.(conn, conn.filters);
  conn.initializeFilters();

  let connected = false;
  let timer: NodeJS.Timeout | null = null;
  const onError = (err: NodeJS.ErrnoException): void => {
    if (connected) return;
    if (timer !== null) clearTimeout(timer);
    conn.emitEvent(ConnectionEvent.ConnectFailed, err.code ?? err.message);
  };
  socket.once('error', onError);
  socket.once('connect', () => {
    connected = true;
    if (timer !== null) clearTimeout(timer);
    socket.setNoDelay(true);
    conn.emitEvent(ConnectionEvent.Connected);
  });
  if (opts.connectTimeoutMs !== undefined && opts.connectTimeoutMs > 0) {
    timer = setTimeout(() => {
      if (connected) return;
      conn.emitEvent(ConnectionEvent.ConnectFailed, `connect timeout after ${opts.connectTimeoutMs} ms`);
      socket.destroy();
    }, opts.connectTimeoutMs);
    timer.unref();
  }
  socket.connect({ host: opts.host, port: opts.port });
  return conn;
}
