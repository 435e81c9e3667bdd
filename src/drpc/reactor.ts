/**
 * Readiness for SEQPACKET fds without blocking the event loop: one poll() at a time runs on a libuv
 * thread-pool thread (koffi's async call) over every registered fd; when it returns, the ready fds are
 * served on the JS thread with non-blocking recv/send/accept, and the next poll is armed.
 *
 * Why this and not the other ways:
 *   - A blocking recv per session on the thread pool would hold one pool thread per idle session
 *     (the pool has 4 by default; fs and dns would starve).
 *   - libuv streams over the fd would read into a 64 KiB buffer and coalesce writes (writev), which
 *     cuts or merges SEQPACKET messages.
 *   - One poll thread per JS thread costs one pool thread in total and one thread hand-off per batch
 *     of ready fds; measured ~20 µs per round trip, and a busy server serves many fds per round.
 *
 * The interest set changes rarely on the hot path: a session keeps POLLIN while its call runs (a
 * synchronous client sends nothing meanwhile), so the armed poll is reused. Adding an fd, asking for
 * POLLOUT or a parked session resuming writes to an eventfd that wakes the poll, which is then
 * re-armed with the new set. The poll also has a finite timeout, and when the last fd is removed the
 * reactor wakes the poll and arms none, so no thread stays blocked and an idle process can exit.
 */
import { POLLIN, POLLNVAL, EFD_CLOEXEC, EFD_NONBLOCK, loadLibc, SyscallError, type Libc } from './libc.js';
import { logger } from '../common/log.js';

const log = logger('drpc');

/** Upper bound on one poll() wait; only matters if a wake-up were ever lost. */
const POLL_TIMEOUT_MS = 500;
const POLLFD_BYTES = 8;

export interface ReactorHandler {
  /** Called on the JS thread with the poll revents (POLLIN, POLLOUT, POLLHUP, POLLERR, POLLNVAL). */
  onReady(revents: number): void;
}

interface Entry {
  handler: ReactorHandler;
  events: number;
}

export class Reactor {
  readonly #libc: Libc;
  readonly #entries = new Map<number, Entry>();
  #wakeFd = -1;
  readonly #wakeValue = Buffer.alloc(8);
  readonly #drain = Buffer.alloc(8);
  #polling = false;
  /** Handlers are running: changes are collected and the next poll is armed once, after them. */
  #dispatching = false;
  #pollBuf = Buffer.alloc(POLLFD_BYTES * 16);
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
    // Wake the poll so it lets go of the closed file (and, with no fds left, of its thread).
    this.#changed();
  }

  /**
   * Resolves once the pool thread is released: at once when no poll runs or other fds still use it,
   * else when the poll woken by the last remove() has returned.
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
    if (this.#wakeFd < 0) return;
    this.#libc.write(this.#wakeFd, this.#wakeValue, 8);
  }

  #arm(): void {
    if (this.#polling) return;
    if (this.#entries.size === 0) {
      this.#closeWakeFd();
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    if (this.#wakeFd < 0) {
      this.#wakeFd = this.#libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (this.#wakeFd < 0) throw new SyscallError('eventfd', this.#libc.errno());
    }
    const n = this.#entries.size + 1;
    if (this.#pollBuf.length < n * POLLFD_BYTES) this.#pollBuf = Buffer.alloc(n * POLLFD_BYTES * 2);
    const buf = this.#pollBuf;
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
    this.#polling = true;
    this.#libc.pollAsync(buf, n, POLL_TIMEOUT_MS, (err, result) => this.#onPolled(buf, n, err, result));
  }

  #onPolled(buf: Buffer, n: number, err: unknown, result: number): void {
    this.#polling = false;
    this.#dispatching = true;
    if (err !== null && err !== undefined) {
      log.error('drpc reactor: poll failed', err);
    } else if (result > 0) {
      const wokeRevents = buf.readInt16LE(6);
      if (wokeRevents !== 0) this.#libc.read(this.#wakeFd, this.#drain, 8);
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
        } catch (e2) {
          log.error(`drpc reactor: handler for fd ${fd} threw`, e2);
        }
      }
    }
    this.#dispatching = false;
    this.#arm();
  }

  #closeWakeFd(): void {
    if (this.#wakeFd >= 0) {
      this.#libc.close(this.#wakeFd);
      this.#wakeFd = -1;
    }
  }
}

let shared: Reactor | undefined;

/** One reactor per JS thread (each worker thread has its own module instance). */
export function threadReactor(): Reactor {
  shared ??= new Reactor();
  return shared;
}
