/**
 * The byte transports under a Connection, behind one small interface so the read and write loops do
 * not branch on the transport kind: SocketWire (TCP / Unix sockets) and RingWire (a RingPipe end).
 *
 * Why the handle swap in SocketWire: net.Server cannot be given the `onread` static-buffer option
 * (measured: −27% CPU per request against 'data' events), but net.Socket accepts `{handle, onread}`.
 * Servers are created with pauseOnConnect, so the accepted socket has not read a byte; when the
 * filter chain is ready the libuv handle is moved into a new onread Socket and the empty shell is
 * destroyed (it only decrements the server's connection count). If the handle is not reachable the
 * wire falls back to 'data' events.
 *
 * Why SocketWire writes straight to the libuv handle: a socket write through stream.Writable walks
 * writeOrBuffer, a WriteWrap allocation, the write callback and an after-write tick for every batch,
 * and keeps its own copy of the state libuv already has. The handle's writeBuffer / writev takes the
 * batch directly; a write the kernel takes at once (the common case on a proxy hop) costs the native
 * call and nothing else, and a WriteWrap is only consumed when libuv must finish the write later. Its
 * completion does what Writable would: count the bytes still queued, report 'drain' once all of them
 * left, and turn a failure into the socket's close with the error's code. TLS sockets, a socket still
 * connecting, and a socket with bytes already inside its Writable keep using socket.write, so order
 * and encryption stay Node's.
 */
import net from 'node:net';
import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { streamWrapBinding, type StreamWrapBinding } from '../../common/stream-wrap.js';
import type { RingEndpoint } from '../../types/ring.js';
import type { Transport } from '../../types/network.js';

export type ReadMode = 'onread' | 'data';

export interface WireEvents {
  /** Bytes from the peer; borrowed = only valid during the call. */
  onRead(data: Buffer, borrowed: boolean): void;
  /** The peer half-closed. */
  onEof(): void;
  /** The transport accepted the bytes it refused before (below the low watermark again). */
  onDrain(): void;
  /** The transport is closed in both directions; error is set when it broke (ECONNRESET, a reset reason). */
  onClosed(error: string | undefined): void;
}

export interface Wire {
  readonly transport: Transport;
  readonly remoteAddress: string;
  readonly localAddress: string;
  /** Socket writes issued (one per batch): what tests and stats count. */
  readonly writeCalls: number;
  /** Set when the last batch crossed the transport's high watermark; cleared before onDrain. */
  readonly needsDrain: boolean;
  startReading(): void;
  pause(): void;
  resume(): void;
  /** Writes a batch; returns how many chunks the transport took (the rest wait for onDrain). */
  writeBatch(chunks: readonly Buffer[], total: number): number;
  /** The last writeBatch left the transport reading the chunks' memory after it returned. */
  readonly lastWriteRetained: boolean;
  /** Half-close after what is written. */
  end(): void;
  /** Closes after what is written (bounded by deadlineMs). */
  closeGraceful(deadlineMs: number): void;
  /** Closes now, dropping what is queued. */
  abort(reason: string): void;
  /** Stops driving the transport (takeTransport); only onClosed still reports. */
  detach(): void;
}

/** One static read buffer per thread: reads complete synchronously, so every socket can share it. */
let sharedReadBuffer: Buffer | null = null;
function readBuffer(): Buffer {
  return (sharedReadBuffer ??= Buffer.allocUnsafe(64 * 1024));
}

/** A libuv stream handle (TCP or pipe) as Node's net.Socket holds it. */
interface StreamHandle {
  writeBuffer(req: DirectWrite, data: Buffer): number;
  writev(req: DirectWrite, chunks: readonly Buffer[], allBuffers: true): number;
}

/** The request object libuv completes a write through; its fields keep the batch alive until then. */
interface DirectWrite {
  handle: StreamHandle | null;
  oncomplete: (this: DirectWrite, status: number) => void;
  wire: SocketWire | null;
  chunks: readonly Buffer[] | null;
  bytes: number;
}

const streamWrap = streamWrapBinding<DirectWrite>();
/** One request object serves every write that completes at once; it is only consumed by one that does not. */
let spareWrite: DirectWrite | null = null;

function onDirectWriteDone(this: DirectWrite, status: number): void {
  const wire = this.wire;
  const bytes = this.bytes;
  this.wire = null;
  this.chunks = null;
  this.handle = null;
  wire?.directWriteDone(status, bytes);
}

function takeWriteRequest(b: StreamWrapBinding<DirectWrite>, handle: StreamHandle): DirectWrite {
  let req = spareWrite;
  if (req === null) {
    req = new b.WriteWrap();
    req.oncomplete = onDirectWriteDone;
    req.wire = null;
    req.chunks = null;
    req.bytes = 0;
    spareWrite = req;
  }
  req.handle = handle;
  return req;
}

function errorName(status: number): string {
  try {
    return getSystemErrorName(status);
  } catch {
    return `write error ${status}`;
  }
}

function addressOf(host: string | undefined, port: number | undefined, fallback: string): string {
  if (host === undefined) return fallback;
  if (port === undefined) return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

interface HandleCarrier {
  _handle?: unknown;
}

export class SocketWire implements Wire {
  #socket: Socket;
  readonly #events: WireEvents;
  readonly #mode: ReadMode;
  /** The socket was created by Ringside with onread already (client connections). */
  readonly #hasOnread: boolean;
  #error: string | undefined;
  #detached = false;
  #closeTimer: NodeJS.Timeout | null = null;
  #remote: string | undefined;
  #local: string | undefined;
  writeCalls = 0;
  needsDrain = false;
  lastWriteRetained = false;
  /** Bytes of direct writes libuv has not finished yet. */
  #queuedBytes = 0;

  constructor(socket: Socket, events: WireEvents, mode: ReadMode, hasOnread: boolean) {
    this.#socket = socket;
    this.#events = events;
    this.#mode = mode;
    this.#hasOnread = hasOnread;
    this.#attach(socket);
  }

  // Lazy: a dialing socket knows its addresses only once connected; cached once known.
  get remoteAddress(): string {
    if (this.#remote !== undefined) return this.#remote;
    const s = this.#socket;
    if (s.remoteAddress === undefined) return s.connecting ? '' : 'unix';
    return (this.#remote = addressOf(s.remoteAddress, s.remotePort, 'unix'));
  }

  get localAddress(): string {
    if (this.#local !== undefined) return this.#local;
    const s = this.#socket;
    if (s.localAddress === undefined) return s.connecting ? '' : 'unix';
    return (this.#local = addressOf(s.localAddress, s.localPort, 'unix'));
  }

  /** The onread option for a socket Ringside creates itself (net.connect). */
  static onreadOption(events: { onRead(data: Buffer, borrowed: boolean): void }): net.OnReadOpts {
    return {
      buffer: readBuffer(),
      callback: (n: number, buf: Uint8Array): boolean => {
        events.onRead((buf as Buffer).subarray(0, n), true);
        return true;
      },
    };
  }

  get transport(): Transport {
    return { kind: 'socket', socket: this.#socket };
  }

  startReading(): void {
    if (this.#hasOnread) return; // reading started on connect
    if (this.#mode === 'onread') {
      const old = this.#socket;
      const handle = (old as unknown as HandleCarrier)._handle;
      if (handle !== null && handle !== undefined && !old.destroyed) {
        void this.remoteAddress; // cache from the accepted socket before it is emptied
        void this.localAddress;
        this.#detachListeners(old);
        (old as unknown as HandleCarrier)._handle = null;
        old.destroy();
        const opts = {
          handle,
          allowHalfOpen: true,
          readable: true,
          writable: true,
          onread: SocketWire.onreadOption(this.#events),
        };
        const socket = new net.Socket(opts as net.SocketConstructorOpts);
        this.#socket = socket;
        this.#attach(socket);
        socket.setNoDelay(true);
        return;
      }
    }
    this.#socket.on('data', (chunk: Buffer) => this.#events.onRead(chunk, false));
    this.#socket.setNoDelay(true);
    this.#socket.resume();
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  writeBatch(chunks: readonly Buffer[], total: number): number {
    const socket = this.#socket;
    this.lastWriteRetained = false;
    if (socket.destroyed || !socket.writable) return chunks.length; // closing: drop silently
    this.writeCalls++;
    const handle = this.#directHandle(socket);
    if (handle !== null) {
      this.#writeDirect(streamWrap!, handle, chunks, total);
      return chunks.length;
    }
    let ok: boolean;
    if (chunks.length === 1) {
      ok = socket.write(chunks[0]!);
    } else {
      socket.cork();
      ok = true;
      for (const c of chunks) ok = socket.write(c);
      socket.uncork(); // one writev for the whole batch
    }
    // Writable holds the chunks until its write callback; bytes it already passed on are done with.
    this.lastWriteRetained = socket.writableLength > 0;
    if (!ok) this.needsDrain = true;
    return chunks.length;
  }

  /** @internal a direct write that libuv finished later (or failed, or cancelled by the close). */
  directWriteDone(status: number, bytes: number): void {
    this.#queuedBytes -= bytes;
    if (status < 0) {
      // After our own destroy() the writes still queued are cancelled: that is no error of the peer's.
      if (!this.#socket.destroyed) this.#failWrite(status);
      return;
    }
    if (this.#queuedBytes === 0 && this.needsDrain && !this.#detached && !this.#socket.destroyed) {
      this.needsDrain = false;
      this.#events.onDrain();
    }
  }

  /** The handle to write to directly, or null when socket.write must keep the order or encrypt. */
  #directHandle(socket: Socket): StreamHandle | null {
    if (streamWrap === null || socket.connecting || (socket as { encrypted?: boolean }).encrypted === true) return null;
    if (socket.writableLength > 0 || socket.writableEnded) return null;
    const handle = (socket as unknown as HandleCarrier)._handle as Partial<StreamHandle> | null | undefined;
    if (handle === null || handle === undefined || typeof handle.writeBuffer !== 'function') return null;
    return handle as StreamHandle;
  }

  #writeDirect(b: StreamWrapBinding<DirectWrite>, handle: StreamHandle, chunks: readonly Buffer[], total: number): void {
    const req = takeWriteRequest(b, handle);
    const err = chunks.length === 1 ? handle.writeBuffer(req, chunks[0]!) : handle.writev(req, chunks, true);
    if (err !== 0) {
      req.handle = null;
      this.#failWrite(err);
      return;
    }
    if (b.streamBaseState[b.kLastWriteWasAsync] === 0) {
      req.handle = null; // done: the same request object serves the next write
      return;
    }
    // libuv finishes it later and reads the chunks until then: they stay referenced from the request.
    spareWrite = null;
    req.wire = this;
    req.chunks = chunks;
    req.bytes = total;
    this.#queuedBytes += total;
    this.lastWriteRetained = true;
    if (this.#queuedBytes >= this.#socket.writableHighWaterMark) this.needsDrain = true;
  }

  /** A write failed (EPIPE, ECONNRESET): the socket closes and onClosed reports the code. */
  #failWrite(status: number): void {
    if (this.#error === undefined) this.#error = errorName(status);
    if (!this.#socket.destroyed) this.#socket.destroy();
  }

  end(): void {
    if (!this.#socket.writableEnded) this.#socket.end();
  }

  closeGraceful(deadlineMs: number): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    socket.end(() => socket.destroy());
    // A peer that never reads must not keep the connection (and its fd) forever.
    this.#closeTimer = setTimeout(() => socket.destroy(), deadlineMs);
    this.#closeTimer.unref();
  }

  abort(reason: string): void {
    if (this.#error === undefined) this.#error = reason;
    this.#socket.destroy();
  }

  detach(): void {
    this.#detached = true;
    this.#socket.removeListener('end', this.#onEnd);
    this.#socket.removeListener('drain', this.#onDrain);
  }

  #attach(socket: Socket): void {
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
  }

  #detachListeners(socket: Socket): void {
    socket.removeListener('end', this.#onEnd);
    socket.removeListener('error', this.#onError);
    socket.removeListener('close', this.#onClose);
    socket.removeListener('drain', this.#onDrain);
  }

  readonly #onEnd = (): void => {
    if (!this.#detached) this.#events.onEof();
  };

  readonly #onError = (err: NodeJS.ErrnoException): void => {
    // ECONNRESET / EPIPE from a peer that went away: reported through onClosed, never thrown.
    if (this.#error === undefined) this.#error = err.code ?? err.message;
  };

  readonly #onDrain = (): void => {
    if (this.#detached || !this.needsDrain) return;
    this.needsDrain = false;
    this.#events.onDrain();
  };

  readonly #onClose = (): void => {
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#events.onClosed(this.#error);
  };
}

export class RingWire implements Wire {
  readonly #endpoint: RingEndpoint;
  readonly #events: WireEvents;
  #closedReported = false;
  readonly remoteAddress: string;
  readonly localAddress: string;
  writeCalls = 0;
  needsDrain = false;
  /** The ring copies every byte (a held remainder too) before write() returns. */
  readonly lastWriteRetained = false;

  constructor(endpoint: RingEndpoint, events: WireEvents) {
    this.#endpoint = endpoint;
    this.#events = events;
    this.remoteAddress = `pipe:${endpoint.pipeId}/${endpoint.side === 'a' ? 'b' : 'a'}`;
    this.localAddress = `pipe:${endpoint.pipeId}/${endpoint.side}`;
    endpoint.onClose = (reason?: string) => this.#reportClosed(reason);
  }

  get transport(): Transport {
    return { kind: 'ring', endpoint: this.#endpoint };
  }

  /** Ring endpoints have one callback per event, so a taken ring is polled by the listener's stats(). */
  get endpointClosed(): boolean {
    return this.#endpoint.closed;
  }

  startReading(): void {
    const ep = this.#endpoint;
    ep.onData = (chunk: Buffer) => this.#events.onRead(chunk, true);
    ep.onEnd = () => this.#events.onEof();
    ep.onDrain = () => {
      this.needsDrain = false;
      this.#events.onDrain();
    };
  }

  pause(): void {
    this.#endpoint.pause();
  }

  resume(): void {
    this.#endpoint.resume();
  }

  writeBatch(chunks: readonly Buffer[], _total: number): number {
    const ep = this.#endpoint;
    if (ep.closed) return chunks.length;
    // The ring copies and publishes at the end of the tick itself, so chunks go in one by one.
    for (let i = 0; i < chunks.length; i++) {
      this.writeCalls++;
      if (!ep.write(chunks[i]!)) {
        this.needsDrain = true;
        return i + 1; // the ring holds the rest of chunk i
      }
    }
    return chunks.length;
  }

  end(): void {
    if (!this.#endpoint.closed) this.#endpoint.end();
  }

  closeGraceful(_deadlineMs: number): void {
    // The ring itself still delivers the written bytes to the peer; this end is done now.
    if (!this.#endpoint.closed) this.#endpoint.close();
    this.#reportClosed(undefined);
  }

  abort(reason: string): void {
    if (!this.#endpoint.closed) this.#endpoint.reset(reason);
    // A local reset may not call our own onClose back: report it here, once.
    this.#reportClosed(reason);
  }

  detach(): void {
    const ep = this.#endpoint;
    ep.onData = null;
    ep.onEnd = null;
    ep.onDrain = null;
    ep.onClose = null;
  }

  #reportClosed(reason: string | undefined): void {
    if (this.#closedReported) return;
    this.#closedReported = true;
    this.#events.onClosed(reason);
  }
}
