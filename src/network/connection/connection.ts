/**
 * A Connection over a socket or a RingPipe end, driven by two actors on the worker's run loop:
 *
 *   transport ──read──▶ read-loop actor ──▶ FilterManager (read filters) ──▶ filters / proxy
 *   write() ──▶ write filters ──▶ write-loop actor ──(one write per batch)──▶ transport
 *
 * Why the read loop is an actor told from the I/O callback: the run loop dispatches directly into an
 * idle actor, so the onread static buffer is still valid while the filters run (no copy). When the
 * actor is busy the message is queued; only then is the buffer copied, and the transport pauses until
 * the backlog is handled (a bounded read queue, never an unbounded one).
 *
 * Why the write loop batches: everything told to it in one event-loop turn goes out as ONE transport
 * write at the end of that turn (turn-flush.ts), copied on arrival into the thread's output arena
 * (out-queue.ts) so a head and its body, or every response one turn answers, are one buffer
 * (measured before: several small writes with Nagle collapsed throughput to 727 req/s). A RingPipe end
 * flushes at the microtask checkpoint instead: the ring copies and batches its publishing per tick
 * itself, and a read delivered by the ring's pump may already run in the check phase.
 */
import { CloseMode, ConnectionEvent } from '../../types/network.js';
import type { Connection, Transport } from '../../types/network.js';
import type { ActorRef, ConnectionReadMsg, ConnectionWriteMsg, RunLoop } from '../../types/actor.js';
import type { OnReadOpts, Socket } from 'node:net';
import type { RingEndpoint } from '../../types/ring.js';
import { logger } from '../../common/log.js';
import { FilterManager } from './filter-manager.js';
import type { FilterHost } from './filter-manager.js';
import { idleSweeper } from './idle.js';
import type { Idleable } from './idle.js';
import { RingWire, SocketWire } from './wire.js';
import type { ReadMode, Wire, WireEvents } from './wire.js';
import { OutQueue } from './out-queue.js';
import { flushAtTurnEnd, type TurnFlushed } from './turn-flush.js';

const log = logger('network');
const EMPTY = Buffer.alloc(0);
/** How long a FlushWrite close waits for a peer that does not read before it drops the bytes. */
const FLUSH_DEADLINE_MS = 10_000;

let nextConnectionId = 1;

type ReadMsg = ConnectionReadMsg;
type WriteMsg = ConnectionWriteMsg;
const FLUSH: WriteMsg = { k: 'flush' };
const END: WriteMsg = { k: 'end' };
const CLOSE: WriteMsg = { k: 'close' };

export interface ConnectionOptions {
  /** Listener name, or the cluster name for upstream connections. */
  listenerName: string;
  runLoop: RunLoop;
  readMode?: ReadMode;
  /** 0 or absent: no idle timeout. */
  idleTimeoutMs?: number;
  /** Called once the transport is closed (the owner stops counting the connection). */
  onFinished?: (connection: ConnectionImpl) => void;
}

export type EventListener = (event: ConnectionEvent, reason?: string) => void;
export type WatermarkListener = (above: boolean) => void;

export class ConnectionImpl implements Connection, FilterHost, WireEvents, Idleable, TurnFlushed {
  readonly id = nextConnectionId++;
  readonly listenerName: string;
  readonly context = new Map<string, unknown>();
  readonly filters: FilterManager;
  readonly #runLoop: RunLoop;
  readonly #wire: Wire;
  readonly #readRef: ActorRef<ReadMsg>;
  readonly #writeRef: ActorRef<WriteMsg>;
  readonly #onFinished: ((c: ConnectionImpl) => void) | undefined;
  #events: EventListener[] = [];
  #watermarks: WatermarkListener[] = [];

  #closed = false;
  #finished = false;
  #taken = false;
  #readingStarted = false;
  #readEnabled = true;
  #chainHalted = false;
  #queuePaused = false;
  #transportPaused = false;
  #halfClose = false;
  #writeEnded = false;

  // write loop state
  readonly #out = new OutQueue();
  /** Data messages the write loop has received (direct or from its mailbox). */
  #writesReceived = 0;
  /**
   * Writes that had to wait in the write loop's mailbox: their bytes were copied into #out by write()
   * itself (the caller may reuse its buffer at once), so the loop skips them when they arrive.
   */
  #copiedEarly: Buffer[] = [];
  /** Socket wires flush at the end of the turn; ring ends at the microtask checkpoint. */
  readonly #flushAtTurnEnd: boolean;
  #flushQueued = false;
  #endQueued = false;
  #closeQueued = false;
  #closeIssued = false;
  #aboveHigh = false;

  // Idleable
  lastActive = 0;
  idleTimeoutMs: number;

  private constructor(wireFactory: (events: WireEvents) => Wire, opts: ConnectionOptions) {
    this.listenerName = opts.listenerName;
    this.#runLoop = opts.runLoop;
    this.#onFinished = opts.onFinished;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 0;
    this.filters = new FilterManager(this);
    this.#wire = wireFactory(this);
    this.#flushAtTurnEnd = !(this.#wire instanceof RingWire);
    this.#readRef = opts.runLoop.spawn<ReadMsg>('connection.read', {
      receive: (m) => this.#receiveRead(m),
      crashed: (err) => this.#loopCrashed('read', err),
    });
    this.#writeRef = opts.runLoop.spawn<WriteMsg>('connection.write', {
      receive: (m) => this.#receiveWrite(m),
      crashed: (err) => this.#loopCrashed('write', err),
    });
    if (this.idleTimeoutMs > 0) idleSweeper.add(this);
  }

  /** An accepted socket, still paused (pauseOnConnect): reading starts when the filter chain is ready. */
  static fromAcceptedSocket(socket: Socket, opts: ConnectionOptions): ConnectionImpl {
    return new ConnectionImpl((ev) => new SocketWire(socket, ev, opts.readMode ?? 'onread', false), opts);
  }

  /**
   * A socket Ringside dialed (dialer.ts): created with the onread option when `hasOnread`, else (TLS)
   * read through 'data' events.
   */
  static fromDialedSocket(socket: Socket, opts: ConnectionOptions, hasOnread: boolean): ConnectionImpl {
    return new ConnectionImpl((ev) => new SocketWire(socket, ev, hasOnread ? 'onread' : 'data', hasOnread), opts);
  }

  /** The onread option for a socket the dialer creates: reads land in the thread's static buffer. */
  static onreadOption(events: { onRead(data: Buffer, borrowed: boolean): void }): OnReadOpts {
    return SocketWire.onreadOption(events);
  }

  static fromRingEndpoint(endpoint: RingEndpoint, opts: ConnectionOptions): ConnectionImpl {
    return new ConnectionImpl((ev) => new RingWire(endpoint, ev), opts);
  }

  get remoteAddress(): string {
    return this.#wire.remoteAddress;
  }

  get localAddress(): string {
    return this.#wire.localAddress;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The RingPipe end under this connection, or null for a socket. */
  get ringEndpoint(): RingEndpoint | null {
    const t = this.#wire.transport;
    return t.kind === 'ring' ? t.endpoint : null;
  }

  /** The protocol ALPN settled on for a TLS connection (e.g. 'h2'); undefined otherwise. */
  get alpnProtocol(): string | undefined {
    const t = this.#wire.transport;
    if (t.kind !== 'socket') return undefined;
    const p = (t.socket as { alpnProtocol?: string | false }).alpnProtocol;
    return typeof p === 'string' ? p : undefined;
  }

  /** The transport was closed and every resource released. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Bytes written and not yet taken by the transport; for tests. */
  get queuedWriteBytes(): number {
    return this.#out.bytes;
  }

  /** Transport writes issued so far (one per batch); for stats and tests. */
  get writeCalls(): number {
    return this.#wire.writeCalls;
  }

  get connection(): Connection {
    return this;
  }

  /** Runs every read filter's onNewConnection; reading starts once the chain is ready. */
  initializeFilters(): void {
    this.filters.initialize();
  }

  /** Queues `data`; its bytes are copied before this returns, so the caller may reuse the buffer at once. */
  write(data: Buffer): void {
    if (this.#closed || this.#writeEnded || this.#taken) return;
    if (this.filters.writeFilters.length > 0 && !this.filters.onWrite(data)) return;
    const received = this.#writesReceived;
    this.#writeRef.tell(data);
    if (this.#writesReceived === received && this.#writeRef.alive) {
      // Queued behind the loop's current message: copy now, in call order (nothing of this
      // connection's output is ahead of it that is not in #out already).
      this.#copiedEarly.push(data);
      this.#queueBytes(data);
    }
  }

  /** Half-closes: what is queued goes out, then the peer sees end of stream; reading goes on. */
  endWrite(): void {
    if (this.#closed || this.#writeEnded || this.#taken) return;
    this.#writeEnded = true;
    this.#writeRef.tell(END);
  }

  /** With half-close enabled a peer's FIN reaches the filters and the connection stays open for writes. */
  enableHalfClose(enabled: boolean): void {
    this.#halfClose = enabled;
  }

  close(mode: CloseMode, reason?: string): void {
    this.#closeWith(mode, ConnectionEvent.LocalClose, reason ?? 'closed by Ringside');
  }

  setReadEnabled(enabled: boolean): void {
    this.#readEnabled = enabled;
    this.#updateReading();
  }

  /** Changes the idle timeout (0 disables it). */
  setIdleTimeout(ms: number): void {
    idleSweeper.remove(this);
    this.idleTimeoutMs = ms;
    if (ms > 0 && !this.#closed && !this.#taken) idleSweeper.add(this);
  }

  addEventListener(listener: EventListener): void {
    this.#events.push(listener);
  }

  addWatermarkListener(listener: WatermarkListener): void {
    this.#watermarks.push(listener);
  }

  takeTransport(): Transport {
    if (this.#readingStarted || this.#closed) {
      throw new Error(`connection ${this.id}: takeTransport() is only valid in onNewConnection`);
    }
    this.#taken = true;
    idleSweeper.remove(this);
    this.#wire.detach();
    return this.#wire.transport;
  }

  /** For the listener's stats(): a taken ring end reports its close only through its own fields. */
  pollTaken(): void {
    if (this.#taken && !this.#finished && this.#wire instanceof RingWire && this.#wire.endpointClosed) {
      this.onClosed(undefined);
    }
  }

  // ---- FilterHost ----

  setChainHalted(halted: boolean): void {
    this.#chainHalted = halted;
    this.#updateReading();
  }

  chainReady(): void {
    if (this.#taken || this.#closed || this.#readingStarted) return;
    this.#readingStarted = true;
    this.#wire.startReading();
    this.#transportPaused = false;
    this.#updateReading();
  }

  requestContinue(index: number): void {
    this.#readRef.tell({ k: 'continue', index });
  }

  // ---- WireEvents (I/O callbacks) ----

  onRead(data: Buffer, borrowed: boolean): void {
    if (this.#closed) return;
    this.lastActive = idleSweeper.now;
    const msg: ReadMsg = { k: 'data', data, eos: false, taken: false };
    this.#readRef.tell(msg);
    if (!msg.taken) {
      // Queued behind other messages: the static buffer will be reused by the next read.
      if (borrowed) msg.data = Buffer.from(data);
      this.#queuePaused = true;
      this.#updateReading();
    }
  }

  onEof(): void {
    if (this.#closed) return;
    this.#readRef.tell({ k: 'data', data: EMPTY, eos: true, taken: false });
  }

  onDrain(): void {
    if (!this.#out.empty) this.#flushNow();
    if (this.#wire.needsDrain || !this.#out.empty) return;
    if (this.#aboveHigh) {
      this.#aboveHigh = false;
      this.#notifyWatermark(false);
    }
    if (this.#endQueued || this.#closeQueued) this.#finishWrites();
  }

  onClosed(error: string | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    if (!this.#closed) {
      this.#closed = true;
      this.#emit(ConnectionEvent.RemoteClose, error ?? 'peer closed');
    }
    idleSweeper.remove(this);
    this.#runLoop.stop(this.#readRef);
    this.#runLoop.stop(this.#writeRef);
    this.#out.clear();
    this.#copiedEarly = [];
    this.#onFinished?.(this);
  }

  // ---- Idleable ----

  onIdle(): void {
    if (this.#closed) return;
    this.#emit(ConnectionEvent.OnReadTimeout, `idle for ${this.idleTimeoutMs} ms`);
    this.#closeWith(CloseMode.FlushWrite, ConnectionEvent.LocalClose, 'idle timeout');
  }

  // ---- supervision ----

  /**
   * One of this connection's actors threw and was stopped (the run loop logged and counted it). A
   * crashed read loop lets the protocol's filter answer with its error first (it still has a write
   * loop); then, or at once for a crashed write loop, the connection is reset, so it stops counting
   * as active and a drain never waits for it.
   */
  #loopCrashed(loop: 'read' | 'write', err: unknown): void {
    const reason = `${loop} loop crashed: ${err instanceof Error ? err.message : String(err)}`;
    if (loop === 'read' && !this.#closed) this.filters.onActorCrash(err);
    if (!this.#closed) this.#closeWith(CloseMode.NoFlush, ConnectionEvent.LocalClose, reason);
    else if (!this.#finished && (loop === 'write' || !this.#writeRef.alive)) this.#wire.abort(reason);
  }

  // ---- internals ----

  /** Client connections report connect outcomes through here (dialer.ts). */
  emitEvent(event: ConnectionEvent, reason?: string): void {
    this.#emit(event, reason);
  }

  #emit(event: ConnectionEvent, reason?: string): void {
    const listeners = this.#events;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(event, reason);
      } catch (err) {
        log.error(`connection ${this.id}: event listener threw on ${event}`, err);
      }
    }
  }

  #notifyWatermark(above: boolean): void {
    for (const l of this.#watermarks) {
      try {
        l(above);
      } catch (err) {
        log.error(`connection ${this.id}: watermark listener threw`, err);
      }
    }
  }

  #closeWith(mode: CloseMode, event: ConnectionEvent, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    idleSweeper.remove(this);
    log.debug(`connection ${this.id} (${this.listenerName}) closing ${mode}: ${reason}`);
    if (this.#taken) {
      // The transport is someone else's now; closing it is still what close() promises.
      const t = this.#wire.transport;
      if (t.kind === 'socket') t.socket.destroy();
      else t.endpoint.reset(reason);
    } else if (mode === CloseMode.FlushWrite) {
      if (this.#readingStarted) this.#wire.pause();
      this.#writeRef.tell(CLOSE);
    } else {
      this.#wire.abort(reason);
    }
    this.#emit(event, reason);
  }

  #updateReading(): void {
    if (!this.#readingStarted || this.#finished) return;
    const want = this.#readEnabled && !this.#chainHalted && !this.#queuePaused && !this.#closed;
    if (want === !this.#transportPaused) return;
    this.#transportPaused = !want;
    if (want) this.#wire.resume();
    else this.#wire.pause();
  }

  #receiveRead(msg: ReadMsg): void {
    if (msg.k === 'continue') {
      if (!this.#closed) this.filters.continueFrom(msg.index);
      return;
    }
    msg.taken = true;
    if (this.#queuePaused) {
      this.#queuePaused = false;
      this.#updateReading();
    }
    if (this.#closed) return;
    this.filters.onData(msg.data, msg.eos);
    if (msg.eos && !this.#halfClose) {
      this.#closeWith(CloseMode.FlushWrite, ConnectionEvent.RemoteClose, 'peer half-closed');
    }
  }

  #receiveWrite(msg: WriteMsg): void {
    if (msg instanceof Uint8Array) {
      this.#writesReceived++;
      const early = this.#copiedEarly;
      if (early.length > 0 && early[0] === msg) {
        early.shift(); // write() copied it when it had to queue
        return;
      }
      this.#queueBytes(msg);
      return;
    }
    switch (msg.k) {
      case 'flush':
        this.#flushQueued = false;
        this.#flushNow();
        if (this.#endQueued || this.#closeQueued) this.#finishWrites();
        return;
      case 'end':
        this.#endQueued = true;
        this.#flushNow();
        this.#finishWrites();
        return;
      case 'close':
        this.#closeQueued = true;
        this.#flushNow();
        this.#finishWrites();
        return;
    }
  }

  /** Copies bytes (maybe borrowed: a read buffer, a caller's scratch) into #out and arranges the flush. */
  #queueBytes(data: Buffer): void {
    this.lastActive = idleSweeper.now;
    this.#out.push(data);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      // The flush is itself a message, told at the end of the turn (or the microtask checkpoint for a
      // ring): writes queued in the mailbox meanwhile land before it and join the same batch.
      if (this.#flushAtTurnEnd) flushAtTurnEnd(this);
      else queueMicrotask(this.#tellFlush);
    }
  }

  // Bound once per connection: a closure per write batch showed in the proxy's allocation profile.
  readonly #tellFlush = (): void => this.#writeRef.tell(FLUSH);

  /** TurnFlushed: the end of the turn this connection was written in. */
  flushTurn(): void {
    if (!this.#finished) this.#writeRef.tell(FLUSH);
  }

  #flushNow(): void {
    const out = this.#out;
    if (out.empty || this.#wire.needsDrain) return;
    const taken = this.#wire.writeBatch(out.chunks(), out.bytes);
    out.written(taken, this.#wire.lastWriteRetained);
    if (this.#wire.needsDrain && !this.#aboveHigh) {
      this.#aboveHigh = true;
      this.#notifyWatermark(true);
    }
  }

  /** Half-close or close once nothing is left to write. */
  #finishWrites(): void {
    if (!this.#out.empty) return; // onDrain calls back
    if (this.#closeQueued) {
      if (this.#closeIssued) return;
      this.#closeIssued = true;
      this.#wire.closeGraceful(FLUSH_DEADLINE_MS);
    } else if (this.#endQueued) {
      this.#endQueued = false;
      this.#wire.end();
    }
  }
}
