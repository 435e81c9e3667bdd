/**
 * TCP dialing for upstream clients: net.connect with Nagle off (several small writes per request
 * collapsed throughput here with Nagle on) and a connect timeout. Failures come back as
 * CONNECT_FAILED, retryable, since nothing reached the service.
 */
import net from 'node:net';
import { RingsideError } from '../common/errors.js';

export interface DialOptions {
  /** Connect timeout in ms; 0 or absent: the OS's. */
  readonly connectTimeoutMs?: number | undefined;
  /**
   * Reads into a caller-owned static buffer instead of 'data' events (cheaper per read); the callback
   * must consume the bytes before it returns.
   */
  readonly onread?: net.OnReadOpts | undefined;
}

/**
 * Calls done exactly once: with the connected socket, or with CONNECT_FAILED (the socket is then
 * destroyed). Returns the socket so a caller shutting down can destroy a dial still in progress.
 */
export function dialTcp(
  target: { readonly host: string; readonly port: number },
  opts: DialOptions,
  done: (err: RingsideError | undefined, socket: net.Socket | undefined) => void,
): net.Socket {
  const socket = net.connect({
    host: target.host,
    port: target.port,
    noDelay: true,
    ...(opts.onread !== undefined ? { onread: opts.onread } : {}),
  });
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const fail = (reason: string, cause?: unknown): void => {
    if (settled) return;
    settled = true;
    if (timer !== undefined) clearTimeout(timer);
    socket.removeListener('connect', onConnect);
    socket.destroy();
    done(
      new RingsideError('CONNECT_FAILED', 'upstream', `connect to ${target.host}:${target.port} failed: ${reason}`, {
        retryable: true,
        cause,
      }),
      undefined,
    );
  };
  const onError = (err: Error): void => fail((err as NodeJS.ErrnoException).code ?? err.message, err);
  const onConnect = (): void => {
    if (settled) return;
    settled = true;
    if (timer !== undefined) clearTimeout(timer);
    socket.removeListener('error', onError);
    done(undefined, socket);
  };
  socket.once('connect', onConnect);
  socket.once('error', onError);
  const ms = opts.connectTimeoutMs ?? 0;
  if (ms > 0) {
    timer = setTimeout(() => fail(`timeout after ${ms} ms`), ms);
    timer.unref();
  }
  return socket;
}
