/**
 * A Connection over one accepted dRPC (SOCK_SEQPACKET) session, so a network filter chain — the
 * `proxy` filter with downstream_protocol drpc — serves dRPC sessions as it serves TCP connections.
 * Its contract differs from a byte stream's in one way, and the dRPC stream connection relies on it:
 * every onData a read filter sees is exactly one packet, and every write() is sent as exactly one
 * packet (never coalesced with another, never cut).
 *
 *   poll thread ─▶ reactor (this thread) ─▶ PacketSocket.onPacket ─▶ read actor ─▶ FilterManager
 *   write() ─▶ write filters ─▶ PacketSocket.send (one send() per packet; EAGAIN: queued, POLLOUT)
 *
 * The read side is a `connection.read` actor on the worker's run loop, as for every other connection:
 * a packet told while the actor is idle is handled on the reactor's stack (the borrowed read buffer
 * is still valid); one that has to wait is copied and reading pauses until it is handled. Sends need
 * no write actor: a packet is sent whole or queued whole by the kernel, so there is nothing to batch.
 */
import { CloseMode, ConnectionEvent, type Connection, type Transport } from '../../types/network.js';
import type { ActorRef, ConnectionReadMsg, RunLoop } from '../../types/actor.js';
import { logger } from '../../common/log.js';
import { FilterManager, type FilterHost } from '../connection/filter-manager.js';
import { PacketSocket } from '../../drpc/packet-socket.js';
import type { Reactor } from '../../drpc/reactor.js';

const log = logger('network');
/** How long a FlushWrite close waits for a peer that does not read before it drops the packets. */
const FLUSH_DEADLINE_MS = 10_000;

/** Session ids count apart from byte-stream connections' (which start at 1), so logs never mix them up. */
let nextSessionId = 1 << 30;

export interface PacketConnectionOptions {
  listenerName: string;
  /** The listener's address (drpc:/path), this end's localAddress. */
  localAddress: string;
  runLoop: RunLoop;
  reactor: Reactor;
  onFinished: (c: PacketConnection) => void;
}

type EventListener = (event: ConnectionEvent, reason?: string) => void;

export class PacketConnection implements Connection, FilterHost {
  readonly id = nextSessionId++;
  readonly listenerName: string;
  /** A Unix peer has no address of its own (as for Unix stream listeners). */
  readonly remoteAddress = 'unix';
  readonly localAddress: string;
  readonly context = new Map<string, unknown>();
  readonly filters: FilterManager;
  readonly #socket: PacketSocket;
  readonly #runLoop: RunLoop;
  readonly #readRef: ActorRef<ConnectionReadMsg>;
  readonly #onFinished: (c: PacketConnection) => void;
  #events: EventListener[] = [];
  #closed = false;
  #finished = false;
  #started = false;
  #readEnabled = true;
  #chainHalted = false;
  #queuePaused = false;

  constructor(fd: number, opts: PacketConnectionOptions) {
    this.listenerName = opts.listenerName;
    this.localAddress = opts.localAddress;
    this.#runLoop = opts.runLoop;
    this.#onFinished = opts.onFinished;
    this.filters = new FilterManager(this);
    this.#readRef = opts.runLoop.spawn<ConnectionReadMsg>('connection.read', {
      receive: (m) => this.#receive(m),
      crashed: (err) => this.#crashed(err),
    });
    this.#socket = new PacketSocket(fd, opts.reactor, {
      onPacket: (packet) => this.#onPacket(packet),
      onClose: (reason, error) => this.#onSocketClosed(reason, error),
    });
    // Nothing is read before the filter chain is ready.
    this.#socket.pauseReading();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Runs every read filter's onNewConnection; reading starts once the chain is ready. */
  initializeFilters(): void {
    this.filters.initialize();
  }

  /** Sends `data` as one packet (at most 1 << 17 bytes; the dRPC stream connection cuts messages into chunks). */
  write(data: Buffer): void {
    if (this.#closed) return;
    if (this.filters.writeFilters.length > 0 && !this.filters.onWrite(data)) return;
    this.#socket.send([data]);
  }

  close(mode: CloseMode, reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const why = reason ?? 'closed by Ringside';
    log.debug(`drpc session ${this.id} (${this.listenerName}) closing ${mode}: ${why}`);
    if (mode === CloseMode.FlushWrite) {
      this.#socket.closeAfterFlush(why);
      if (!this.#socket.closed) setTimeout(() => this.#socket.close(`${why} (flush deadline)`), FLUSH_DEADLINE_MS).unref();
    } else this.#socket.close(why);
    this.#emit(ConnectionEvent.LocalClose, why);
  }

  setReadEnabled(enabled: boolean): void {
    this.#readEnabled = enabled;
    this.#updateReading();
  }

  addEventListener(listener: EventListener): void {
    this.#events.push(listener);
  }

  takeTransport(): Transport {
    throw new Error(`drpc session ${this.id}: a SOCK_SEQPACKET session carries packets, not a byte stream; no filter can take its transport`);
  }

  // ── FilterHost ──
  get connection(): Connection {
    return this;
  }

  setChainHalted(halted: boolean): void {
    this.#chainHalted = halted;
    this.#updateReading();
  }

  chainReady(): void {
    if (this.#closed || this.#started) return;
    this.#started = true;
    this.#updateReading();
  }

  requestContinue(index: number): void {
    this.#readRef.tell({ k: 'continue', index });
  }

  // ── socket events ──
  #onPacket(packet: Buffer): void {
    if (this.#closed) return;
    const msg: ConnectionReadMsg = { k: 'data', data: packet, eos: false, taken: false };
    this.#readRef.tell(msg);
    if (!msg.taken) {
      // Queued behind other messages: the thread's read buffer is reused by the next recv.
      msg.data = Buffer.from(packet);
      this.#queuePaused = true;
      this.#updateReading();
    }
  }

  #onSocketClosed(reason: string, error: Error | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    if (!this.#closed) {
      this.#closed = true;
      this.#emit(ConnectionEvent.RemoteClose, error === undefined ? reason : `${reason}: ${error.message}`);
    }
    this.#runLoop.stop(this.#readRef);
    this.#onFinished(this);
  }

  #receive(msg: ConnectionReadMsg): void {
    if (msg.k === 'continue') {
      if (!this.#closed) this.filters.continueFrom(msg.index);
      return;
    }
    msg.taken = true;
    if (this.#queuePaused) {
      this.#queuePaused = false;
      this.#updateReading();
    }
    if (!this.#closed) this.filters.onData(msg.data, false);
  }

  #crashed(err: unknown): void {
    if (!this.#closed) this.filters.onActorCrash(err);
    if (!this.#closed) this.close(CloseMode.NoFlush, `read loop crashed: ${err instanceof Error ? err.message : String(err)}`);
  }

  #updateReading(): void {
    if (!this.#started || this.#finished) return;
    if (this.#readEnabled && !this.#chainHalted && !this.#queuePaused && !this.#closed) this.#socket.resumeReading();
    else this.#socket.pauseReading();
  }

  #emit(event: ConnectionEvent, reason?: string): void {
    for (const l of this.#events) {
      try {
        l(event, reason);
      } catch (err) {
        log.error(`drpc session ${this.id}: event listener threw on ${event}`, err);
      }
    }
  }
}
