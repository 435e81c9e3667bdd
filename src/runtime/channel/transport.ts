/**
 * The byte transport of one channel connection: a RingPipe end dialed into an in-process listener (the
 * fast path, Layotto's net.Pipe), a TCP socket for `host:port`, or a Unix socket for an absolute path.
 * One small interface so the http channel never branches on where its bytes go.
 */
import { connect, type Socket } from 'node:net';
import { RingsideError } from '../../common/errors.js';
import type { RingEndpoint } from '../../types/ring.js';
import type { PlacementAdvisor } from '../../types/actor.js';

export interface ChannelTransport {
  readonly kind: 'ring' | 'tcp' | 'unix';
  readonly closed: boolean;
  /**
   * The scheduler would place this connection's far end on another worker now: a pool closes it
   * when it comes back idle, so the next call re-dials. Always false for sockets.
   */
  readonly misplaced: boolean;
  /** Queues bytes toward the peer (one call per request: the request is encoded whole). */
  write(data: Buffer): void;
  /** Drops the transport at once; onClose follows. */
  destroy(reason: string): void;
  /** Bytes from the peer; valid only during the call. */
  onData: ((chunk: Buffer) => void) | null;
  /** The transport is gone; `connected` tells a failed dial from a dropped connection. */
  onClose: ((reason: string, connected: boolean) => void) | null;
}

/** Dials `listener` as Layotto's dialFunc does: host:port → TCP, otherwise the in-process listener. */
export function dialTransport(
  listener: string,
  dialInProcess: ((name: string) => RingEndpoint) | undefined,
  placement?: PlacementAdvisor,
): ChannelTransport {
  if (listener.startsWith('/')) return new SocketTransport('unix', connect({ path: listener }));
  const colon = listener.lastIndexOf(':');
  if (colon > 0) {
    const port = Number(listener.slice(colon + 1));
    if (Number.isInteger(port) && port > 0 && port < 65536) {
      const host = listener.slice(0, colon).replace(/^\[|\]$/g, '');
      return new SocketTransport('tcp', connect({ host, port, noDelay: true }));
    }
  }
  if (dialInProcess === undefined) {
    throw new RingsideError('UNAVAILABLE', 'internal', `no in-process listener table on this worker to dial "${listener}"`);
  }
  let endpoint: RingEndpoint;
  try {
    endpoint = dialInProcess(listener);
  } catch (err) {
    throw new RingsideError('UNAVAILABLE', 'internal', `cannot dial in-process listener "${listener}": ${(err as Error).message}`, { cause: err });
  }
  return new RingTransport(endpoint, placement);
}

/**
 * What both transports share: the callbacks, a close that runs once and drops the callbacks, and a
 * destroy that aborts the underlying transport first.
 */
abstract class BaseTransport implements ChannelTransport {
  abstract readonly kind: 'ring' | 'tcp' | 'unix';
  #closed = false;
  onData: ((chunk: Buffer) => void) | null = null;
  onClose: ((reason: string, connected: boolean) => void) | null = null;

  get closed(): boolean {
    return this.#closed;
  }

  get misplaced(): boolean {
    return false;
  }

  abstract write(data: Buffer): void;
  /** Tears the underlying socket or pipe down. */
  protected abstract abort(reason: string): void;
  /** Whether the peer was ever reached (a failed dial vs a dropped connection). */
  protected abstract get connected(): boolean;

  destroy(reason: string): void {
    if (this.#closed) return;
    this.abort(reason);
    this.finish(reason);
  }

  protected finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const cb = this.onClose;
    this.onClose = null;
    this.onData = null;
    cb?.(reason, this.connected);
  }
}

class SocketTransport extends BaseTransport {
  readonly kind: 'tcp' | 'unix';
  readonly #socket: Socket;
  #connected = false;

  constructor(kind: 'tcp' | 'unix', socket: Socket) {
    super();
    this.kind = kind;
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.once('connect', () => {
      this.#connected = true;
    });
    socket.on('data', (chunk: Buffer) => this.onData?.(chunk));
    let reason = 'closed by peer';
    socket.on('error', (err) => {
      reason = err.message;
    });
    // An HTTP/1.1 upstream that half-closes is done with this connection: finish it here.
    socket.on('end', () => socket.destroy());
    socket.on('close', () => this.finish(reason));
  }

  protected get connected(): boolean {
    return this.#connected;
  }

  write(data: Buffer): void {
    if (!this.closed) this.#socket.write(data);
  }

  protected abort(): void {
    this.#socket.destroy();
  }
}

class RingTransport extends BaseTransport {
  readonly kind = 'ring' as const;
  readonly #endpoint: RingEndpoint;
  readonly #placement: PlacementAdvisor | undefined;

  constructor(endpoint: RingEndpoint, placement: PlacementAdvisor | undefined) {
    super();
    this.#endpoint = endpoint;
    this.#placement = placement;
    endpoint.onData = (chunk) => this.onData?.(chunk);
    endpoint.onEnd = () => this.destroy('closed by peer');
    endpoint.onClose = (reason) => this.finish(reason ?? 'closed by peer');
  }

  override get closed(): boolean {
    return super.closed || this.#endpoint.closed;
  }

  override get misplaced(): boolean {
    return this.#placement !== undefined && this.#placement.shouldRetire(this.#endpoint);
  }

  /** A pipe is connected the moment it is dialed: a close is always a dropped connection. */
  protected get connected(): boolean {
    return true;
  }

  write(data: Buffer): void {
    // A full ring holds the remainder of this one write and drains it by itself; requests are written
    // whole and never pipelined, so there is nothing more to wait for here.
    if (!this.closed) this.#endpoint.write(data);
  }

  protected abort(reason: string): void {
    this.#endpoint.reset(reason);
  }
}
