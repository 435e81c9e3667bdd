/**
 * Readiness for SEQPACKET fds without blocking the event loop: a dedicated poll thread
 * (src/drpc/poller-thread.ts) blocks in poll() over every registered fd; when it returns, the ready
 * fds are served on this thread with non-blocking recv/send/accept, and the next poll is armed. The
 * pollfd array and a small control block live in shared memory; the poll thread is woken with
 * Atomics.notify and reports back with Atomics.notify, which this thread awaits with
 * Atomics.waitAsync.
 *
 * Why this and not the other ways:
 *   - koffi's async calls run on libuv's pool and call back into JS: measured, a worker thread that
 *     ends (terminate, or a crash) while one is in flight aborts the whole process (napi_throw in the
 *     completion). The poll thread never calls into another thread's JS, so ending its owner is safe.
 *   - A blocking recv per session on the pool would hold one pool thread per idle session.
 *   - libuv streams over the fd would read into a 64 KiB buffer and coalesce writes (writev), which
 *     cuts or merges SEQPACKET messages.
 *
 * The interest set changes rarely on the hot path: a session keeps POLLIN while its call runs (a
 * synchronous client sends nothing meanwhile), so the armed poll is reused. Adding an fd, asking for
 * POLLOUT or a parked session resuming writes to an eventfd the poll watches, which wakes it to be
 * re-armed. The poll has a finite timeout; when the last fd is removed nothing is armed, and after a
 * short linger the poll thread is told to exit, so no thread stays blocked after a shutdown.
 */
import { Worker } from 'node:worker_threads';
import { EFD_CLOEXEC, EFD_NONBLOCK, POLLIN, POLLNVAL, errnoName, loadLibc, SyscallError, type Libc } from './libc.js';
import { ARM, ARM_POLL, ARM_STOP, CONTROL_SLOTS, ERRNO, NFDS, RESULT, SEQ, TIMEOUT_MS } from './poller-layout.js';
import { logger } from '../common/log.js';

const log = logger('drpc');

/** Atomics.waitAsync (ES2024; in V8 since Node 16), typed here because the build targets ES2023's lib. */
const waitAsync = (Atomics as unknown as {
  waitAsync(ta: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

/** Upper bound on one poll() wait; only matters if a wake-up were ever lost. */
const POLL_TIMEOUT_MS = 500;
const POLLFD_BYTES = 8;
/** Most fds one thread's reactor watches (the shared pollfd array is sized once). */
export const MAX_REACTOR_FDS = 16_384;
/** How long an empty reactor keeps its poll thread, so a client that reconnects finds it running. */
const LINGER_MS = 2000;

export interface ReactorHandler {
  /** Called on the JS thread with the poll revents (POLLIN, POLLOUT, POLLHUP, POLLERR, POLLNVAL). */
  onReady(revents: number): void;
}

interface Entry {
  handler: ReactorHandler;
  events: number;
}

interface PollThread {
  worker: Worker;
  ctl: Int32Array;
  fds: Buffer;
}

export class Reactor {
  readonly #libc: Libc;
  readonly #entries = new Map<number, Entry>();
  #wakeFd = -1;
  readonly #wakeValue = Buffer.alloc(8);
  readonly #drain = Buffer.alloc(8);
  #thread: PollThread | null = null;
  #polling = false;
  /** Handlers are running: changes are collected and the next poll is armed once, after them. */
  #dispatching = false;
  #linger: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor() {
    this.#libc = loadLibc();
    this.#wakeValue.writeBigUInt64LE(1n);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Watches `fd` for `events` (POLLIN / POLLOUT; 0 still reports POLLHUP and POLLERR). */
  add(fd: number, events: number, handler: ReactorHandler): void {
    if (this.#entries.size >= MAX_REACTOR_FDS) throw new Error(`the dRPC reactor of this thread already watches ${MAX_REACTOR_FDS} fds`);
    this.#entries.set(fd, { handler, events });
    this.#changed();
  }

  /** Changes what `fd` is watched for; wakes the armed poll only when it would now miss an event. */
  setEvents(fd: number, events: number): void {
    const e = this.#entries.get(fd);
    if (e === undefined || e.events === events) return;
    const added = (events & ~e.events) !== 0;
    e.events = events;
    // Dropped interest needs no wake-up: a spurious readiness report is ignored by the handler and
    // the next poll is built without it.
    if (added) this.#changed();
  }

  /** Stops watching `fd`; call before closing it. */
  remove(fd: number): void {
    if (!this.#entries.delete(fd)) return;
    // Wake the poll so it lets go of the closed file (and, with no fds left, stops being armed).
    this.#changed();
  }

  /**
   * Resolves once no poll is armed: at once when none is or other fds still use the reactor, else
   * when the poll woken by the last remove() has returned.
   */
  whenIdle(): Promise<void> {
    if (!this.#polling || this.#entries.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #changed(): void {
    if (this.#dispatching) return;
    if (this.#polling) this.#wake();
    else this.#arm();
  }

  #wake(): void {
    if (this.#wakeFd >= 0) this.#libc.write(this.#wakeFd, this.#wakeValue, 8);
  }

  #ensureThread(): PollThread {
    if (this.#thread !== null) return this.#thread;
    if (this.#wakeFd < 0) {
      this.#wakeFd = this.#libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (this.#wakeFd < 0) throw new SyscallError('eventfd', this.#libc.errno());
    }
    const control = new SharedArrayBuffer(CONTROL_SLOTS * 4);
    const fds = new SharedArrayBuffer((MAX_REACTOR_FDS + 1) * POLLFD_BYTES);
    const worker = new Worker(new URL('./poller-thread.js', import.meta.url), { workerData: { control, fds }, name: 'drpc-poll' });
    worker.on('error', (err) => log.error('drpc poll thread failed', err));
    const thread: PollThread = { worker, ctl: new Int32Array(control), fds: Buffer.from(fds) };
    worker.once('exit', () => {
      if (this.#thread === thread) this.#thread = null;
    });
    this.#thread = thread;
    return thread;
  }

  #arm(): void {
    if (this.#polling) return;
    if (this.#entries.size === 0) {
      this.#thread?.worker.unref();
      this.#scheduleStop();
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    clearTimeout(this.#linger);
    this.#linger = undefined;
    const t = this.#ensureThread();
    // While fds are watched the poll thread keeps the process alive, as a listening net.Server does.
    t.worker.ref();
    const buf = t.fds;
    // struct pollfd {int fd; short events; short revents;} in native byte order (little-endian on the
    // Linux targets Ringside supports).
    buf.writeInt32LE(this.#wakeFd, 0);
    buf.writeInt16LE(POLLIN, 4);
    buf.writeInt16LE(0, 6);
    let i = 1;
    for (const [fd, e] of this.#entries) {
      const at = i * POLLFD_BYTES;
      buf.writeInt32LE(fd, at);
      buf.writeInt16LE(e.events, at + 4);
      buf.writeInt16LE(0, at + 6);
      i++;
    }
    const n = i;
    const ctl = t.ctl;
    Atomics.store(ctl, NFDS, n);
    Atomics.store(ctl, TIMEOUT_MS, POLL_TIMEOUT_MS);
    const seq = Atomics.load(ctl, SEQ);
    this.#polling = true;
    Atomics.store(ctl, ARM, ARM_POLL);
    Atomics.notify(ctl, ARM);
    const w = waitAsync(ctl, SEQ, seq);
    if (w.async) void w.value.then(() => this.#onPolled(t, n));
    else this.#onPolled(t, n);
  }

  #onPolled(t: PollThread, n: number): void {
    this.#polling = false;
    if (this.#thread !== t) return;
    const result = Atomics.load(t.ctl, RESULT);
    this.#dispatching = true;
    if (result < 0) {
      const e = Atomics.load(t.ctl, ERRNO);
      if (errnoName(e) !== 'EINTR') log.error(`drpc reactor: poll failed: ${errnoName(e)}`);
    } else if (result > 0) {
      const buf = t.fds;
      if (buf.readInt16LE(6) !== 0) this.#libc.read(this.#wakeFd, this.#drain, 8);
      for (let i = 1; i < n; i++) {
        const at = i * POLLFD_BYTES;
        const revents = buf.readInt16LE(at + 6);
        if (revents === 0) continue;
        const fd = buf.readInt32LE(at);
        const e = this.#entries.get(fd);
        // An fd removed (and maybe reused) while the poll ran: its readiness belongs to the old file.
        if (e === undefined || (revents & POLLNVAL) !== 0) continue;
        try {
          e.handler.onReady(revents);
        } catch (err) {
          log.error(`drpc reactor: handler for fd ${fd} threw`, err);
        }
      }
    }
    this.#dispatching = false;
    this.#arm();
  }

  #scheduleStop(): void {
    if (this.#thread === null || this.#linger !== undefined) return;
    this.#linger = setTimeout(() => {
      this.#linger = undefined;
      const t = this.#thread;
      if (t === null || this.#entries.size > 0 || this.#polling) return;
      this.#thread = null;
      Atomics.store(t.ctl, ARM, ARM_STOP);
      Atomics.notify(t.ctl, ARM);
      if (this.#wakeFd >= 0) {
        this.#libc.close(this.#wakeFd);
        this.#wakeFd = -1;
      }
    }, LINGER_MS);
    this.#linger.unref();
  }
}

let shared: Reactor | undefined;

/** One reactor per JS thread (each worker thread has its own module instance). */
export function threadReactor(): Reactor {
  shared ??= new Reactor();
  return shared;
}
