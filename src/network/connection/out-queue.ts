/**
 * A connection's output between write() and the transport write at the end of the turn.
 *
 * Why a copy at all: callers write borrowed bytes (a view into the thread's onread buffer, a decoder's
 * slice of it) and the transport write happens later in the turn, after other reads have reused that
 * buffer. Why one arena per thread: a response's head and body, or every frame one turn produces for a
 * connection, land next to each other in one piece of memory and leave as ONE buffer — no Buffer per
 * write, no concat, no writev bookkeeping for the common case. The arena is reused from its start once
 * nothing points into it (every run written, or handed to the kernel by a write that completed at
 * once); a write the kernel could not take at once keeps its memory, so that arena is retired and a
 * fresh one taken (the old one is freed when that write completes).
 */

/** Writes up to this size are copied into the arena; larger ones get a buffer of their own. */
export const ARENA_COPY_MAX = 16 * 1024;
const ARENA_SIZE = 128 * 1024;

class Arena {
  readonly buf = Buffer.allocUnsafeSlow(ARENA_SIZE);
  used = 0;
  /** Runs or chunks that still point into buf and were not handed to the transport. */
  holds = 0;
  /** A transport kept a reference into buf past its write call: buf is never written again. */
  retired = false;
}

let current: Arena | null = null;

/** An arena with room for n more bytes, reset to its start when nothing points into it. */
function arenaWithRoom(n: number): Arena {
  let a = current;
  if (a !== null && a.holds === 0 && !a.retired) a.used = 0;
  if (a === null || a.retired || a.used + n > ARENA_SIZE) current = a = new Arena();
  return a;
}

export class OutQueue {
  /** Sealed chunks, oldest first; arenas[i] is the arena chunks[i] points into (null: its own buffer). */
  #chunks: Buffer[] = [];
  #arenas: (Arena | null)[] = [];
  /** The open run: bytes [runStart, runEnd) of runArena, extended while writes land back to back. */
  #runArena: Arena | null = null;
  #runStart = 0;
  #runEnd = 0;
  bytes = 0;

  get empty(): boolean {
    return this.bytes === 0;
  }

  /** Copies `data` (valid only during this call) into the queue. */
  push(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    this.bytes += n;
    if (n > ARENA_COPY_MAX) {
      this.#seal();
      const own = Buffer.allocUnsafeSlow(n);
      own.set(data);
      this.#chunks.push(own);
      this.#arenas.push(null);
      return;
    }
    let a = this.#runArena;
    if (a === null || a !== current || a.retired || a.used !== this.#runEnd || a.used + n > ARENA_SIZE) {
      this.#seal();
      a = arenaWithRoom(n);
      a.holds++;
      this.#runArena = a;
      this.#runStart = this.#runEnd = a.used;
    }
    a.buf.set(data, a.used);
    a.used += n;
    this.#runEnd = a.used;
  }

  /** Everything queued, as chunks for one transport write; call written() with how many it took. */
  chunks(): readonly Buffer[] {
    this.#seal();
    return this.#chunks;
  }

  /**
   * The transport took the first `taken` chunks; `retained`: it still reads their memory after its
   * call returned (a write that completes later), so the arenas behind them must not be reused.
   */
  written(taken: number, retained: boolean): void {
    const chunks = this.#chunks;
    const arenas = this.#arenas;
    for (let i = 0; i < taken; i++) {
      this.bytes -= chunks[i]!.length;
      const a = arenas[i];
      if (a === null || a === undefined) continue;
      a.holds--;
      if (retained) a.retired = true;
    }
    if (taken === chunks.length) {
      this.#chunks = [];
      this.#arenas = [];
    } else {
      this.#chunks = chunks.slice(taken);
      this.#arenas = arenas.slice(taken);
    }
  }

  /** Drops everything (the connection closed); the arenas behind it may be reused. */
  clear(): void {
    this.#seal();
    for (const a of this.#arenas) if (a !== null) a.holds--;
    this.#chunks = [];
    this.#arenas = [];
    this.bytes = 0;
  }

  #seal(): void {
    const a = this.#runArena;
    if (a === null) return;
    this.#runArena = null;
    this.#chunks.push(a.buf.subarray(this.#runStart, this.#runEnd));
    this.#arenas.push(a);
  }
}
