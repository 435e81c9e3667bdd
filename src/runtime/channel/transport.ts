/**
 * The byte transport of one channel connection: a RingPipe end dialed into an in-process listener (the
 * fast path, Layotto's net.Pipe), a TCP socket for `host:port`, or a Unix socket for an absolute path.
 * One small interface so a channel never branches on where its bytes go.
 *
 * Underneath it is the dialer's connection (src/network/connection/dialer.ts), the same ConnectionImpl
 * every other connection is: the channel's end of a RingPipe has its read-loop and write-loop actors
 * on the worker's run loop, and a request written in one tick leaves as one write.
 */
import { RingsideError } from '../../common/errors.js';
import { threadRunLoop } from '../../actor/run-loop.js';
import { dial, parseDialTarget } from '../../network/connection/dialer.js';
import type { ConnectionImpl } from '../../network/connection/connection.js';
import { CloseMode, ConnectionEvent, FilterStatus } from '../../types/network.js';
import type { ReadFilter } from '../../types/network.js';
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

/** Dials `listener` as Layotto's dialFunc does: host:port → TCP, /path → Unix, otherwise the in-process listener. */
export function dialTransport(
  listener: string,
  dialInProcess: ((name: string) => RingEndpoint) | undefined,
  placement?: PlacementAdvisor,
): ChannelTransport {
  return new ConnectionTransport(listener, dialInProcess, placement);
}

/** A ChannelTransport over one dialed connection; its read filter hands the bytes to onData. */
class ConnectionTransport implements ChannelTransport {
  readonly kind: 'ring' | 'tcp' | 'unix';
  readonly #conn: ConnectionImpl;
  readonly #placement: PlacementAdvisor | undefined;
  #connected = false;
  #failure: string | undefined;
  #closed = false;
  onData: ((chunk: Buffer) => void) | null = null;
  onClose: ((reason: string, connected: boolean) => void) | null = null;

  constructor(listener: string, dialInProcess: ((name: string) => RingEndpoint) | undefined, placement: PlacementAdvisor | undefined) {
    const target = parseDialTarget(listener);
    this.kind = target.kind === 'pipe' ? 'ring' : target.kind;
    this.#placement = placement;
    try {
      this.#conn = dial({
        target,
        name: listener,
        runLoop: threadRunLoop(),
        dialInProcess,
        init: (conn, chain) => {
          chain.addReadFilter(this.#reader);
          conn.addEventListener((event, reason) => this.#onEvent(event, reason));
        },
      });
    } catch (err) {
      throw err instanceof RingsideError ? err : new RingsideError('UNAVAILABLE', 'internal', `cannot dial "${listener}": ${(err as Error).message}`, { cause: err });
    }
    // A pipe is connected the moment it is dialed: a close is always a dropped connection.
    if (target.kind === 'pipe') this.#connected = true;
  }

  get closed(): boolean {
    return this.#closed || this.#conn.closed;
  }

  get misplaced(): boolean {
    const endpoint = this.#conn.ringEndpoint;
    return this.#placement !== undefined && endpoint !== null && this.#placement.shouldRetire(endpoint);
  }

  write(data: Buffer): void {
    // A full ring or socket holds the rest and drains it by itself; requests are written whole and
    // never pipelined, so there is nothing more to wait for here.
    if (!this.closed) this.#conn.write(data);
  }

  destroy(reason: string): void {
    if (this.#closed) return;
    this.#conn.close(CloseMode.NoFlush, reason);
    this.#finish(reason);
  }

  /** The connection's only read filter, in its read loop: a read's (borrowed) bytes go to onData. */
  readonly #reader: ReadFilter = {
    initializeReadFilterCallbacks: () => {},
    onNewConnection: () => FilterStatus.Continue,
    onData: (data: Buffer, endOfStream: boolean): FilterStatus => {
      if (data.length > 0) this.onData?.(data);
      // An HTTP/1.1 upstream that half-closes is done with this connection.
      if (endOfStream) this.destroy('closed by peer');
      return FilterStatus.Stop;
    },
  };

  #onEvent(event: ConnectionEvent, reason: string | undefined): void {
    switch (event) {
      case ConnectionEvent.Connected:
        this.#connected = true;
        return;
      case ConnectionEvent.ConnectFailed:
        this.#failure = reason ?? 'connect failed';
        return;
      case ConnectionEvent.LocalClose:
      case ConnectionEvent.RemoteClose:
        this.#finish(this.#failure ?? reason ?? 'closed by peer');
        return;
      default:
        return;
    }
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const cb = this.onClose;
    this.onClose = null;
    this.onData = null;
    cb?.(reason, this.#connected);
  }
}
