/**
 * The per-thread load engine: owns the connections, the schedule and the histograms of one load
 * thread. Closed loop keeps `concurrency` requests in flight on every connection. Open loop gives
 * every connection slot its own send schedule, as wrk2 does: with C slots at a thread rate r, slot s
 * sends its k-th request at t0 + (s + k·C)/r, so together they send request i at t0 + i/r. A slot
 * sends when its next request is due and it has a free place (else as soon as a response frees one),
 * and every latency is measured from that request's intended time, so a stalled target cannot hide
 * its stall by slowing the sender (coordinated omission). Due times are met to a few µs by the
 * pacer's clock thread, not by millisecond timers.
 */
import { performance } from 'node:perf_hooks';
import type { ConnectionEvents, FailureKind, LoadConnection, ProtocolDriver } from './driver.js';
import { LatencyRecorder } from './recorder.js';
import type { LoadThreadInit, ThreadProgress, ThreadResult } from './messages.js';
import { Pacer } from './pacer.js';

const RECONNECT_DELAY_MS = 100;

/** One connection's place in the schedule; a replacement connection takes over its slot. */
interface Slot {
  readonly index: number;
  conn: LoadConnection | undefined;
  /** Open loop: the number of this slot's next request in its own schedule. */
  k: number;
}

export class LoadEngine implements ConnectionEvents {
  readonly #driver: ProtocolDriver;
  readonly #cfg: LoadThreadInit;
  readonly #live = new Set<LoadConnection>();
  readonly #everReady = new WeakSet<LoadConnection>();
  readonly #slots: Slot[] = [];
  readonly #slotOf = new Map<LoadConnection, Slot>();
  #pacer: Pacer | undefined;
  readonly #hist = new LatencyRecorder();
  readonly #raw: LatencyRecorder | undefined;
  readonly #errorsByStatus = new Map<string, number>();
  #requests = 0;
  /** Responses before the measured window (the warm-up): not in the figures, but the CPU was spent. */
  #warmupRequests = 0;
  #errors = 0;
  #firstFailure: string | undefined;

  #phase: 'connecting' | 'running' | 'stopped' = 'connecting';
  #measuring = false;
  #t0 = 0;
  #measureStart = Number.POSITIVE_INFINITY;
  #endAt = 0;
  #started = 0; // requests sent inside the measured window (for -n)
  #msPerRequest = 0;
  #timers: NodeJS.Timeout[] = [];
  #connectOk = 0;
  #connectFailed = 0;
  #onConnected: ((ok: number, failed: number) => void) | undefined;
  #onDone: ((r: ThreadResult) => void) | undefined;

  constructor(driver: ProtocolDriver, cfg: LoadThreadInit) {
    this.#driver = driver;
    this.#cfg = cfg;
    this.#raw = cfg.rate === undefined ? undefined : new LatencyRecorder();
    if (cfg.rate !== undefined) this.#msPerRequest = 1000 / cfg.rate;
  }

  /** Opens every connection; resolves when each one connected or failed. */
  connect(): Promise<{ ok: number; failed: number; detail: string | undefined }> {
    return new Promise((resolve) => {
      // A target that swallows SYNs would otherwise hold the run forever; --timeout bounds connecting.
      const giveUp = setTimeout(() => {
        this.#firstFailure ??= `connect_error: no answer within ${this.#cfg.timeoutMs} ms`;
        this.#onConnected?.(this.#connectOk, this.#cfg.connections - this.#connectOk);
      }, this.#cfg.timeoutMs);
      this.#onConnected = (ok, failed) => {
        clearTimeout(giveUp);
        this.#onConnected = undefined;
        resolve({ ok, failed, detail: this.#firstFailure });
      };
      if (this.#cfg.rate !== undefined) this.#pacer = new Pacer((now) => this.#onClock(now));
      for (let i = 0; i < this.#cfg.connections; i++) {
        const slot: Slot = { index: i, conn: undefined, k: 0 };
        this.#slots.push(slot);
        this.#open(slot);
      }
    });
  }

  /** Starts the load; resolves with this thread's counters and histograms when the run ends. */
  run(): Promise<ThreadResult> {
    const cfg = this.#cfg;
    this.#phase = 'running';
    this.#t0 = performance.now();
    this.#resetStats();
    this.#firstFailure = undefined;
    const startMeasuring = (): void => {
      this.#resetStats();
      this.#measuring = true;
      this.#measureStart = performance.now();
      if (cfg.durationMs !== undefined) this.#timers.push(setTimeout(() => this.stop(), cfg.durationMs));
    };
    if (cfg.warmupMs > 0) this.#timers.push(setTimeout(startMeasuring, cfg.warmupMs));
    else startMeasuring();
    const sweep = Math.max(5, Math.min(250, cfg.timeoutMs / 4));
    const sweeper = setInterval(() => this.#sweepTimeouts(), sweep);
    this.#timers.push(sweeper);
    const done = new Promise<ThreadResult>((resolve) => (this.#onDone = resolve));
    // Replace connections that failed while connecting, then fill every ready one.
    for (const slot of this.#slots) {
      if (slot.conn === undefined) this.#open(slot);
      else if (this.#everReady.has(slot.conn)) this.#fill(slot);
    }
    return done;
  }

  /** The counters the final report will use, so far: requests and errors of the measured window. */
  progress(): ThreadProgress {
    if (!this.#measuring) return { requests: 0, errors: 0, measuredMs: 0 };
    const end = this.#phase === 'stopped' ? this.#endAt : performance.now();
    return { requests: this.#requests, errors: this.#errors, measuredMs: end - this.#measureStart };
  }

  /** Ends the run now: requests still in flight are dropped, not counted. */
  stop(): void {
    if (this.#phase !== 'running') return;
    this.#phase = 'stopped';
    this.#endAt = performance.now();
    for (const t of this.#timers) clearTimeout(t);
    this.#pacer?.stop();
    let unsent = 0;
    if (this.#cfg.rate !== undefined) for (const slot of this.#slots) unsent += Math.max(0, this.#dueCount(slot, this.#endAt) - slot.k);
    for (const conn of [...this.#live]) conn.abort(null);
    const byStatus: Record<string, number> = {};
    for (const [k, v] of this.#errorsByStatus) byStatus[k] = v;
    this.#onDone?.({
      requests: this.#requests,
      warmupRequests: this.#warmupRequests,
      errors: this.#errors,
      errorsByStatus: byStatus,
      elapsedMs: this.#measuring ? this.#endAt - this.#measureStart : 0,
      histogram: this.#hist.export(),
      rawHistogram: this.#raw?.export(),
      unsent,
      firstFailure: this.#firstFailure,
    });
  }

  // ── ConnectionEvents ──────────────────────────────────────────────────────────────────────────

  ready(conn: LoadConnection): void {
    this.#everReady.add(conn);
    if (this.#phase === 'connecting') {
      this.#connectOk++;
      this.#checkConnected();
      return;
    }
    const slot = this.#slotOf.get(conn);
    if (this.#phase === 'running' && slot !== undefined) this.#fill(slot);
  }

  response(conn: LoadConnection, intendedAt: number, sentAt: number, error: string | undefined): void {
    if (this.#phase !== 'running') return;
    const now = performance.now();
    if (this.#measuring && intendedAt >= this.#measureStart) {
      this.#requests++;
      this.#hist.record((now - intendedAt) * 1000);
      this.#raw?.record((now - sentAt) * 1000);
      if (error !== undefined) this.#countError(error, 1);
      if (this.#cfg.requests !== undefined && this.#requests >= this.#cfg.requests) {
        this.stop();
        return;
      }
    } else {
      this.#warmupRequests++;
    }
    if (!conn.accepting) return;
    if (this.#cfg.rate === undefined) {
      if (this.#mayStart()) this.#startOn(conn, now, now);
      return;
    }
    const slot = this.#slotOf.get(conn);
    if (slot !== undefined) this.#pacer?.armAt(this.#sendDue(slot, now));
  }

  failed(_conn: LoadConnection, kind: FailureKind, count: number, detail: string): void {
    this.#firstFailure ??= `${kind}: ${detail}`;
    if (this.#phase === 'connecting') {
      if (kind === 'connect_error') {
        this.#connectFailed++;
        this.#checkConnected();
      }
      return;
    }
    if (this.#phase !== 'running' || !this.#measuring) return;
    this.#requests += count;
    this.#countError(kind, count);
    if (this.#cfg.requests !== undefined && this.#requests >= this.#cfg.requests) this.stop();
  }

  closed(conn: LoadConnection): void {
    this.#live.delete(conn);
    const slot = this.#slotOf.get(conn);
    this.#slotOf.delete(conn);
    if (slot === undefined) return;
    slot.conn = undefined;
    if (this.#phase !== 'running') return;
    // A refused connect is retried after a pause so a dead target is not hammered in a tight loop.
    const delay = this.#everReady.has(conn) ? 0 : RECONNECT_DELAY_MS;
    const t = setTimeout(() => {
      if (this.#phase === 'running' && slot.conn === undefined) this.#open(slot);
    }, delay);
    this.#timers.push(t);
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────

  #open(slot: Slot): void {
    const conn = this.#driver.connect(this.#cfg.spec, this);
    slot.conn = conn;
    this.#slotOf.set(conn, slot);
    this.#live.add(conn);
  }

  #checkConnected(): void {
    if (this.#connectOk + this.#connectFailed === this.#cfg.connections) {
      this.#onConnected?.(this.#connectOk, this.#connectFailed);
    }
  }

  #resetStats(): void {
    this.#hist.reset();
    this.#raw?.reset();
    this.#errorsByStatus.clear();
    this.#requests = 0;
    this.#errors = 0;
    this.#started = 0;
  }

  #countError(key: string, count: number): void {
    this.#errors += count;
    this.#errorsByStatus.set(key, (this.#errorsByStatus.get(key) ?? 0) + count);
  }

  #mayStart(): boolean {
    return this.#cfg.requests === undefined || !this.#measuring || this.#started < this.#cfg.requests;
  }

  #startOn(conn: LoadConnection, intendedAt: number, now: number): void {
    if (this.#measuring) this.#started++;
    conn.send(intendedAt, now);
  }

  #fill(slot: Slot): void {
    const conn = slot.conn;
    if (conn === undefined) return;
    const now = performance.now();
    if (this.#cfg.rate !== undefined) {
      this.#pacer?.armAt(this.#sendDue(slot, now));
      return;
    }
    for (let k = conn.inFlight; k < this.#cfg.concurrency; k++) if (this.#mayStart() && conn.accepting) this.#startOn(conn, now, now);
  }

  /** Intended send time of the slot's next request. */
  #intendedOf(slot: Slot): number {
    return this.#t0 + (slot.index + slot.k * this.#slots.length) * this.#msPerRequest;
  }

  /** How many of the slot's requests the schedule has made due by `t`. */
  #dueCount(slot: Slot, t: number): number {
    const n = Math.floor(((t - this.#t0) / this.#msPerRequest - slot.index) / this.#slots.length) + 1;
    return Math.max(0, n);
  }

  /**
   * Open loop: sends every request of the slot that is due and has a free place on its connection;
   * returns the intended time of the next one when it is not due yet and has room (the pacer must
   * wake the thread then), else +Infinity (the slot waits for a response, or is done).
   */
  #sendDue(slot: Slot, now: number): number {
    const conn = slot.conn;
    if (conn === undefined || !conn.accepting || this.#phase !== 'running') return Number.POSITIVE_INFINITY;
    let intended = this.#intendedOf(slot);
    while (intended <= now && conn.inFlight < this.#cfg.concurrency && this.#mayStart()) {
      this.#startOn(conn, intended, now);
      slot.k++;
      intended = this.#intendedOf(slot);
    }
    return intended > now && conn.inFlight < this.#cfg.concurrency && this.#mayStart() ? intended : Number.POSITIVE_INFINITY;
  }

  /** The pacer's wake-up: every slot sends what is due; the pacer is re-armed for the earliest next. */
  #onClock(now: number): void {
    if (this.#phase !== 'running') return;
    let next = Number.POSITIVE_INFINITY;
    for (const slot of this.#slots) next = Math.min(next, this.#sendDue(slot, now));
    this.#pacer?.armAt(next);
  }

  #sweepTimeouts(): void {
    const limit = performance.now() - this.#cfg.timeoutMs;
    for (const conn of [...this.#live]) if (conn.oldestSentAt() < limit) conn.abort('timeout');
  }
}
