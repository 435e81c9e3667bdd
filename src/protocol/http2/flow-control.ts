/**
 * HTTP/2 flow control of one connection (RFC 9113 §5.2, §6.9): the connection's send and receive
 * windows, each stream's output queue under the peer's windows, and the credit (WINDOW_UPDATE) we
 * give back for what was passed on. The connection (connection.ts) parses frames and keeps stream
 * states; it hands body output and received DATA sizes here.
 *
 * Output: what the windows admit is framed at once (DATA frames of at most the peer's max frame
 * size); the rest is queued on the stream, and the stream joins `pendingOut` (in the order streams
 * blocked, so a WINDOW_UPDATE on the connection drains them fairly). Past `highWatermark` queued
 * bytes a stream reports itself blocked; below half of it, writable again.
 *
 * Credit: a stream's body is credited back once half its window was used and passed on (fewer
 * WINDOW_UPDATE frames), unless the layer above paused it (then the peer stops after the window);
 * the connection's once half the connection window was used — padding and DATA on closed streams
 * count there too.
 */
import { encodeWindowUpdate } from './frames.js';
import type { Stream } from './stream-record.js';

export const DEFAULT_WINDOW = 65_535;
export const MAX_WINDOW = 0x7fffffff;
const EMPTY = Buffer.alloc(0);

/** What flow control needs from the connection it serves. */
export interface FlowHost {
  /** One frame (or several, already framed) for the peer. */
  write(frames: Buffer): void;
  /** A DATA frame for the peer (`payload` is valid only during the call). */
  data(streamId: number, payload: Buffer, endStream: boolean): void;
  /** The peer's SETTINGS_MAX_FRAME_SIZE. */
  readonly peerMaxFrame: number;
  /** We sent END_STREAM on the stream. */
  localEnd(s: Stream): void;
  /** The stream may be finished (both ends closed, nothing queued). */
  maybeClose(s: Stream): void;
  /** The stream's queued output fell below the low watermark (tell the handler, if it is still live). */
  streamWritable(s: Stream): void;
}

export class FlowControl {
  /** What the peer lets us send on the connection. */
  sendWindow = DEFAULT_WINDOW;
  /** What we let the peer send on the connection. */
  recvWindow = DEFAULT_WINDOW;
  /** Streams with queued output, in the order they blocked (fair flushing). */
  readonly pendingOut = new Set<Stream>();
  readonly #host: FlowHost;
  readonly #highWatermark: number;
  /** Our initial connection / stream windows (what half of them is, for crediting). */
  readonly #connWindow: number;
  readonly #streamWindow: number;
  #connUnacked = 0;

  constructor(host: FlowHost, opts: { highWatermark: number; connectionWindow: number; streamWindow: number }) {
    this.#host = host;
    this.#highWatermark = opts.highWatermark;
    this.#connWindow = opts.connectionWindow;
    this.#streamWindow = opts.streamWindow;
  }

  // ───────────── output ─────────────

  /** Body bytes for a stream that may send: framed now as far as the windows admit, the rest queued. */
  send(s: Stream, data: Buffer, endStream: boolean): void {
    if (s.queuedBytes === 0) {
      const n = this.#writeData(s, data, endStream);
      if (n === data.length) return;
      data = data.subarray(n);
    }
    if (data.length > 0) {
      s.queue.push(Buffer.from(data));
      s.queuedBytes += data.length;
    }
    if (endStream) s.endQueued = true;
    this.pendingOut.add(s);
    if (!s.blocked && s.queuedBytes > this.#highWatermark) s.blocked = true;
  }

  /** Writes what the windows admit now (frames of at most the peer's max frame size); answers bytes written. */
  #writeData(s: Stream, data: Buffer, endStream: boolean): number {
    const host = this.#host;
    let at = 0;
    const len = data.length;
    if (len === 0) {
      if (endStream) {
        host.data(s.id, data, true);
        host.localEnd(s);
      }
      return 0;
    }
    while (at < len) {
      const room = Math.min(this.sendWindow, s.sendWindow, host.peerMaxFrame);
      if (room <= 0) break;
      const n = Math.min(room, len - at);
      const last = at + n === len;
      host.data(s.id, at === 0 && last ? data : data.subarray(at, at + n), last && endStream);
      this.sendWindow -= n;
      s.sendWindow -= n;
      at += n;
      if (last && endStream) host.localEnd(s);
    }
    return at;
  }

  /** The connection window grew (or the peer's settings arrived): queued streams go on, in order. */
  flushAll(): void {
    if (this.pendingOut.size === 0) return;
    for (const s of [...this.pendingOut]) {
      if (this.sendWindow <= 0) return;
      this.flush(s);
    }
  }

  /** Writes the stream's queue as far as the windows admit, then its END_STREAM (or trailers) once empty. */
  flush(s: Stream): void {
    while (s.queue.length > 0) {
      const head = s.queue[0]!;
      const lastPiece = s.queue.length === 1;
      const end = lastPiece && s.endQueued && s.trailers === null;
      const n = this.#writeData(s, head, end);
      s.queuedBytes -= n;
      if (n < head.length) {
        s.queue[0] = head.subarray(n);
        this.#maybeWritable(s);
        return;
      }
      s.queue.shift();
      if (end) {
        s.endQueued = false;
        break;
      }
    }
    if (s.endQueued) {
      s.endQueued = false;
      if (s.trailers !== null) {
        const t = s.trailers;
        s.trailers = null;
        this.#host.write(t);
        this.#host.localEnd(s);
      } else {
        this.#writeData(s, EMPTY, true);
      }
    }
    this.pendingOut.delete(s);
    this.#maybeWritable(s);
    this.#host.maybeClose(s);
  }

  #maybeWritable(s: Stream): void {
    if (s.blocked && s.queuedBytes <= this.#highWatermark / 2) {
      s.blocked = false;
      this.#host.streamWritable(s);
    }
  }

  // ───────────── credit ─────────────

  /** Credits the peer's connection window once half of it was used (fewer WINDOW_UPDATE frames). */
  creditConnection(n: number): void {
    this.#connUnacked += n;
    if (this.#connUnacked >= Math.max(this.#connWindow, DEFAULT_WINDOW) / 2) {
      this.#host.write(encodeWindowUpdate(0, this.#connUnacked));
      this.recvWindow += this.#connUnacked;
      this.#connUnacked = 0;
    }
  }

  /** Credits the stream's body passed on: once half its window is used, or now (`force`: reading resumed). */
  creditStream(s: Stream, force: boolean): void {
    if (!s.receiving || s.remoteEnded || s.unacked === 0) return;
    if (!force && s.unacked < this.#streamWindow / 2) return;
    this.#host.write(encodeWindowUpdate(s.id, s.unacked));
    s.recvWindow += s.unacked;
    s.unacked = 0;
  }
}
