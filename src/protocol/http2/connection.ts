/**
 * Ringside's HTTP/2 connection engine (RFC 9113), one per connection, server or client role. It
 * owns what HTTP/2 keeps per connection — preface, SETTINGS, HPACK contexts, stream states,
 * connection and stream flow control, PING, GOAWAY, RST_STREAM — and reports streams to a handler
 * (the stream layer) as header blocks and body pieces.
 *
 * Why not node:http2 on the proxy path: Node builds an Http2Stream (a full Duplex), header objects
 * and several promises/ticks per stream. A bare node:http2 pass-through forwarder measured 189 µs CPU
 * per unary gRPC call here (h2load, 8 connections × 16 streams) against HAProxy's 16 µs; that cost is
 * Node's per-stream objects, not the network. This engine keeps one small record per stream, parses
 * frames in place from the read buffer, and gathers the frames it makes — every stream's, with the
 * WINDOW_UPDATEs — into one transport write at the microtask checkpoint (frame-out.ts).
 *
 * Errors: a connection error (bad frame, HPACK failure, flow-control violation, wrong preface, a
 * flood) sends GOAWAY with the RFC code and closes this connection only; a stream error sends
 * RST_STREAM and leaves the other streams alone. No byte from the peer throws out of execute().
 *
 * Backpressure: body bytes delivered to the handler are credited back to the peer (WINDOW_UPDATE) at
 * once, unless the handler paused the stream (setStreamReceiving(id, false)); then the peer can send
 * at most the stream window more. Output the peer's windows do not admit yet is queued per stream;
 * past `streamHighWatermark` queued bytes the stream reports itself blocked, and onStreamWritable
 * says when it drained. Memory per connection is bounded by windows × max concurrent streams.
 */
import {
  FrameType,
  HTTP2_PREFACE,
  Http2Deadline,
  Http2ErrorCode,
  SettingId,
  StreamState,
  type Http2ConnectionHandler,
  type Http2Frame,
  type Http2Settings,
  type Http2Transport,
} from '../../types/http2.js';
import { Http2ConnectionError, Http2StreamError, errorCodeName } from './errors.js';
import { RateBound, Stream } from './stream-record.js';
import { FrameParser } from './frame-parser.js';
import {
  SETTINGS_ACK,
  encodeGoaway,
  encodeHeaders,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
} from './frames.js';
import { DEFAULT_WINDOW, FlowControl, MAX_WINDOW, type FlowHost } from './flow-control.js';
import { FrameOut } from './frame-out.js';
import { DEFAULT_MAX_FRAME, PeerSettings } from './peer-settings.js';
import { DEFAULT_TABLE_SIZE, HpackDecoder, HpackEncoder } from './hpack.js';
import { BlockKind, malformed } from './fields.js';

/** Reset code reported to the handler when the connection itself went away under the stream. */
export const CONNECTION_GONE = -1;

const PREFACE = Buffer.from(HTTP2_PREFACE, 'latin1');

export const defaultHttp2Settings: Http2Settings = {
  maxConcurrentStreams: 100,
  initialStreamWindowSize: 256 * 1024,
  initialConnectionWindowSize: 1024 * 1024,
  maxFrameSize: DEFAULT_MAX_FRAME,
  maxHeaderListSize: 16 * 1024,
  headerTableSize: DEFAULT_TABLE_SIZE,
  maxResetsPerSecond: 200,
  maxControlFramesPerSecond: 1000,
  settingsAckTimeoutMs: 0,
  headersTimeoutMs: 0,
};

export type Http2Role = 'server' | 'client';

export interface Http2ConnectionOptions {
  readonly role: Http2Role;
  readonly settings?: Partial<Http2Settings>;
  readonly handler: Http2ConnectionHandler;
  readonly transport: Http2Transport;
  /** Queued output bytes of one stream above which it reports itself blocked. Default 64 KiB. */
  readonly streamHighWatermark?: number;
}

export class Http2Connection {
  readonly role: Http2Role;
  readonly settings: Http2Settings;
  readonly #handler: Http2ConnectionHandler;
  readonly #transport: Http2Transport;
  readonly #parser: FrameParser;
  readonly #decoder: HpackDecoder;
  readonly #encoder = new HpackEncoder();
  readonly #streams = new Map<number, Stream>();
  readonly #flow: FlowControl;
  /** Frames made since the last flush; they leave as one transport write (frame-out.ts). */
  readonly #out: FrameOut;
  readonly #resets: RateBound;
  readonly #controls: RateBound;

  #prefaceLeft: number;
  #remoteSettingsSeen = false;
  #localSettingsAcked = false;
  /** The peer's settings (what it accepts from us). */
  readonly #peer = new PeerSettings();
  /** Highest stream id the peer opened / we opened. */
  #lastPeerStream = 0;
  #nextLocalStream: number;
  #peerStreams = 0;
  #localStreams = 0;
  /** GOAWAY sent (no new peer streams past lastPeerStream) / received (no new local streams). */
  #goawaySent = false;
  #goawayReceived = false;
  #closed = false;
  #started = false;
  /** SETTINGS sent and not yet acknowledged (settingsAckTimeoutMs). */
  #ackTimer: NodeJS.Timeout | undefined;
  /** A header block (or a server's preface + first SETTINGS) is in progress (headersTimeoutMs). */
  #headersTimer: NodeJS.Timeout | undefined;
  /** The number of each timer's current arming (0: not armed); an expiry of another arming is stale. */
  #ackArmed = 0;
  #headersArmed = 0;
  #headersWhat = '';
  #armings = 0;

  constructor(options: Http2ConnectionOptions) {
    this.role = options.role;
    this.settings = { ...defaultHttp2Settings, ...options.settings };
    this.#handler = options.handler;
    this.#transport = options.transport;
    const engine = this;
    const out = (this.#out = new FrameOut((bytes) => this.#transport.write(bytes)));
    const host: FlowHost = {
      write: (frames) => out.frame(frames),
      data: (id, payload, end) => out.data(id, payload, end),
      get peerMaxFrame() {
        return engine.#peer.maxFrame;
      },
      localEnd: (st) => this.#localEnd(st),
      maybeClose: (st) => this.#maybeClose(st),
      streamWritable: (st) => {
        if (this.#streams.get(st.id) === st) this.#handler.onStreamWritable?.(st.id);
      },
    };
    this.#flow = new FlowControl(host, {
      highWatermark: options.streamHighWatermark ?? 64 * 1024,
      connectionWindow: this.settings.initialConnectionWindowSize,
      streamWindow: this.settings.initialStreamWindowSize,
    });
    this.#resets = new RateBound(this.settings.maxResetsPerSecond);
    this.#controls = new RateBound(this.settings.maxControlFramesPerSecond);
    this.#prefaceLeft = this.role === 'server' ? PREFACE.length : 0;
    this.#nextLocalStream = this.role === 'client' ? 1 : 2;
    this.#decoder = new HpackDecoder(this.settings.headerTableSize);
    this.#parser = new FrameParser(
      {
        maxFrameSize: this.settings.maxFrameSize,
        // A compressed block is never much larger than the list it decodes to (literals cost their bytes
        // plus a few); past twice the list limit it cannot be a list we would accept.
        maxHeaderBlockBytes: this.settings.maxHeaderListSize * 2 + 1024,
      },
      (frame) => this.#onFrame(frame),
      (err) => this.#streamError(err),
    );
  }

  // ───────────── state the stream layer reads ─────────────

  get closed(): boolean {
    return this.#closed;
  }
  /** Streams open in either direction. */
  get activeStreams(): number {
    return this.#streams.size;
  }
  /** Client role: whether one more stream may be opened now (peer limit, GOAWAY, settings seen). */
  get canOpenStream(): boolean {
    return !this.#closed && !this.#goawayReceived && !this.#goawaySent && this.#localStreams < this.#peer.maxConcurrentStreams && this.#nextLocalStream <= MAX_WINDOW;
  }
  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS (100 until it says). */
  get peerMaxConcurrentStreams(): number {
    return this.#peer.maxConcurrentStreams;
  }
  get remoteSettingsSeen(): boolean {
    return this.#remoteSettingsSeen;
  }
  get goawayReceived(): boolean {
    return this.#goawayReceived;
  }
  /** Output of the stream waiting for flow-control window, in bytes (0 for unknown streams). */
  queuedBytes(id: number): number {
    return this.#streams.get(id)?.queuedBytes ?? 0;
  }
  /** Whether the stream's queued output is past the high watermark (its producer should pause). */
  isBlocked(id: number): boolean {
    return this.#streams.get(id)?.blocked ?? false;
  }
  hasStream(id: number): boolean {
    return this.#streams.has(id);
  }

  // ───────────── lifecycle ─────────────

  /** Sends the preface (client) and our SETTINGS, and grows the connection window to the configured size. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const s = this.settings;
    const list: [number, number][] = [];
    if (s.headerTableSize !== DEFAULT_TABLE_SIZE) list.push([SettingId.HeaderTableSize, s.headerTableSize]);
    if (this.role === 'client') list.push([SettingId.EnablePush, 0]);
    list.push([SettingId.MaxConcurrentStreams, s.maxConcurrentStreams]);
    list.push([SettingId.InitialWindowSize, s.initialStreamWindowSize]);
    if (s.maxFrameSize !== DEFAULT_MAX_FRAME) list.push([SettingId.MaxFrameSize, s.maxFrameSize]);
    list.push([SettingId.MaxHeaderListSize, s.maxHeaderListSize]);
    const parts = [encodeSettings(list)];
    if (this.role === 'client') parts.unshift(PREFACE);
    if (s.initialConnectionWindowSize > DEFAULT_WINDOW) {
      parts.push(encodeWindowUpdate(0, s.initialConnectionWindowSize - DEFAULT_WINDOW));
      this.#flow.recvWindow = s.initialConnectionWindowSize;
    }
    this.#out.frame(Buffer.concat(parts));
    if (s.settingsAckTimeoutMs > 0) {
      const armed = (this.#ackArmed = ++this.#armings);
      this.#ackTimer = setTimeout(() => this.#deadline(Http2Deadline.SettingsAck, armed), s.settingsAckTimeoutMs);
      this.#ackTimer.unref?.();
    }
    this.#watchHeaders();
  }

  /** A timer fired: the handler tells the actor that drives the engine; without one it applies here. */
  #deadline(deadline: Http2Deadline, armed: number): void {
    if (this.#handler.onDeadline !== undefined) this.#handler.onDeadline(deadline, armed);
    else this.expire(deadline, armed);
  }

  /**
   * Applies a deadline whose timer fired (from the actor that drives the engine, on its turn):
   * SETTINGS_TIMEOUT or PROTOCOL_ERROR and the connection closes — unless that arming was cleared
   * meanwhile (the acknowledgement or the rest of the block was read first), then nothing happens.
   */
  expire(deadline: Http2Deadline, armed: number): void {
    if (this.#closed) return;
    if (deadline === Http2Deadline.SettingsAck) {
      if (this.#ackArmed !== armed) return;
      this.#ackArmed = 0;
      this.#ackTimer = undefined;
      this.#connectionError(new Http2ConnectionError(Http2ErrorCode.SettingsTimeout, `SETTINGS not acknowledged within ${this.settings.settingsAckTimeoutMs} ms`));
    } else {
      if (this.#headersArmed !== armed) return;
      this.#headersArmed = 0;
      this.#headersTimer = undefined;
      this.#connectionError(new Http2ConnectionError(Http2ErrorCode.ProtocolError, `${this.#headersWhat} not complete within ${this.settings.headersTimeoutMs} ms`));
    }
  }

  /** Runs the headers timer while a header block, or a server's preface + first SETTINGS, is incomplete. */
  #watchHeaders(): void {
    const ms = this.settings.headersTimeoutMs;
    if (ms <= 0 || this.#closed) return;
    const waiting = this.#parser.inHeaderBlock || (this.role === 'server' && !this.#remoteSettingsSeen);
    if (waiting && this.#headersTimer === undefined) {
      this.#headersWhat = this.#remoteSettingsSeen ? 'a header block' : 'the connection preface and SETTINGS';
      const armed = (this.#headersArmed = ++this.#armings);
      this.#headersTimer = setTimeout(() => this.#deadline(Http2Deadline.Headers, armed), ms);
      this.#headersTimer.unref?.();
    } else if (!waiting && this.#headersTimer !== undefined) {
      clearTimeout(this.#headersTimer);
      this.#headersTimer = undefined;
      this.#headersArmed = 0;
    }
  }

  /** Bytes read from the peer. Never throws for bad input: the connection is closed with its error. */
  execute(chunk: Buffer): void {
    if (this.#closed) return;
    let data = chunk;
    if (this.#prefaceLeft > 0) {
      const at = PREFACE.length - this.#prefaceLeft;
      const n = Math.min(this.#prefaceLeft, data.length);
      if (PREFACE.compare(data, 0, n, at, at + n) !== 0) {
        this.#connectionError(new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'wrong connection preface'));
        return;
      }
      this.#prefaceLeft -= n;
      if (n === data.length) return;
      data = data.subarray(n);
    }
    try {
      this.#parser.execute(data);
    } catch (err) {
      if (err instanceof Http2ConnectionError) this.#connectionError(err);
      else throw err;
    }
    if (this.settings.headersTimeoutMs > 0) this.#watchHeaders();
  }

  /** The transport closed under us (peer closed, socket error): every stream ends. */
  transportClosed(reason: string): void {
    if (this.#closed) return;
    this.#finish(reason, CONNECTION_GONE, false);
  }

  /**
   * Graceful shutdown: GOAWAY(NO_ERROR) naming the last stream the peer opened; streams in progress
   * finish, new ones are refused, the connection closes when the last one ends.
   */
  shutdown(debug = 'shutting down'): void {
    if (this.#closed || this.#goawaySent) return;
    this.#goawaySent = true;
    this.#out.frame(encodeGoaway(this.#lastPeerStream, Http2ErrorCode.NoError, debug));
    this.#closeIfDone();
  }

  /** Closes at once: GOAWAY(code) and every stream reset. */
  close(code: Http2ErrorCode, debug: string): void {
    if (this.#closed) return;
    this.#out.frame(encodeGoaway(this.#lastPeerStream, code, debug));
    this.#finish(debug, code, false);
  }

  // ───────────── streams: what the layer above sends ─────────────

  /** Client role: opens a stream with its request head; answers the stream id. */
  openStream(fields: string[], endStream: boolean): number {
    if (!this.canOpenStream) throw new Error('no stream can be opened on this connection now');
    const id = this.#nextLocalStream;
    this.#nextLocalStream += 2;
    const s = new Stream(id, this.#peer.initialWindow, this.#localStreamWindow(), true);
    this.#streams.set(id, s);
    this.#localStreams++;
    this.sendHeaders(id, fields, endStream);
    return id;
  }

  /** Sends a head (or trailers when the body was already sent, with endStream). */
  sendHeaders(id: number, fields: readonly string[], endStream: boolean): void {
    const s = this.#streams.get(id);
    if (s === undefined || s.localEnded || this.#closed) return;
    const block = this.#encoder.encode(fields);
    if (endStream && s.queuedBytes > 0) {
      // Trailers follow the body still waiting for window.
      s.trailers = encodeHeaders(id, block, true, this.#peer.maxFrame);
      s.endQueued = true;
      return;
    }
    this.#out.frame(encodeHeaders(id, block, endStream, this.#peer.maxFrame));
    if (endStream) this.#localEnd(s);
  }

  /** Sends body bytes (the buffer may be reused by the caller after the call). */
  sendData(id: number, data: Buffer, endStream: boolean): void {
    const s = this.#streams.get(id);
    if (s === undefined || s.localEnded || s.endQueued || this.#closed) return;
    this.#flow.send(s, data, endStream);
  }

  /** Abandons a stream: RST_STREAM(code); no callback follows for it. */
  resetStream(id: number, code: Http2ErrorCode): void {
    const s = this.#streams.get(id);
    if (s === undefined || this.#closed) return;
    this.#out.frame(encodeRstStream(id, code));
    this.#remove(s);
  }

  /** Pauses / resumes crediting the peer for the stream's body (a slow consumer slows its producer). */
  setStreamReceiving(id: number, enabled: boolean): void {
    const s = this.#streams.get(id);
    if (s === undefined || s.receiving === enabled) return;
    s.receiving = enabled;
    if (enabled) this.#flow.creditStream(s, true);
  }

  // ───────────── frames from the peer ─────────────

  #onFrame(f: Http2Frame): void {
    if (this.#closed) return; // a handler closed the connection while this read was being parsed
    if (!this.#remoteSettingsSeen && f.type !== FrameType.Settings) {
      throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'first frame is not SETTINGS');
    }
    try {
      switch (f.type) {
        case FrameType.Data:
          this.#onData(f.streamId, f.data, f.endStream, f.flowLength);
          return;
        case FrameType.Headers:
          this.#onHeaders(f.streamId, f.block, f.endStream);
          return;
        case FrameType.Priority:
          this.#control();
          return;
        case FrameType.RstStream:
          this.#onRst(f.streamId, f.code);
          return;
        case FrameType.Settings:
          this.#onSettings(f.ack, f.settings);
          return;
        case FrameType.PushPromise:
          // Ringside never enables push (clients send ENABLE_PUSH 0; servers may not receive it).
          throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, 'PUSH_PROMISE refused');
        case FrameType.Ping:
          this.#control();
          if (!f.ack) this.#out.frame(encodePing(f.data, true));
          return;
        case FrameType.Goaway:
          this.#onGoaway(f.lastStreamId, f.code, f.debug);
          return;
        case FrameType.WindowUpdate:
          this.#onWindowUpdate(f.streamId, f.increment);
          return;
      }
    } catch (err) {
      if (err instanceof Http2StreamError) this.#streamError(err);
      else throw err;
    }
  }

  #control(): void {
    if (!this.#controls.take()) throw new Http2ConnectionError(Http2ErrorCode.EnhanceYourCalm, 'control frame flood');
  }

  #onSettings(ack: boolean, settings: readonly (readonly [number, number])[]): void {
    if (ack) {
      this.#localSettingsAcked = true;
      clearTimeout(this.#ackTimer);
      this.#ackTimer = undefined;
      this.#ackArmed = 0;
      return;
    }
    if (this.#remoteSettingsSeen) this.#control();
    this.#peer.apply(settings, this.role === 'client', {
      peerTableSize: (size) => this.#encoder.setPeerTableSize(size),
      initialWindowMoved: (delta) => {
        for (const st of this.#streams.values()) {
          st.sendWindow += delta;
          if (st.sendWindow > MAX_WINDOW) throw new Http2ConnectionError(Http2ErrorCode.FlowControlError, 'stream window above 2^31-1');
        }
      },
    });
    this.#out.frame(SETTINGS_ACK);
    const first = !this.#remoteSettingsSeen;
    this.#remoteSettingsSeen = true;
    this.#flow.flushAll();
    if (first) this.#handler.onRemoteSettings?.();
  }

  #onHeaders(id: number, block: Buffer, endStream: boolean): void {
    // The block is always decoded, whatever happens to the stream: HPACK state is per connection.
    const decoded = this.#decoder.decode(block, this.settings.maxHeaderListSize);
    let s = this.#streams.get(id);
    if (s === undefined) {
      // A closed stream the peer still sends on (it may not have seen our reset yet): dropped.
      if (!this.#isIdle(id)) return;
      const peerInitiated = (id & 1) === 1;
      if (this.role === 'client' || !peerInitiated) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, `HEADERS on idle stream ${id}`);
      this.#lastPeerStream = id;
      if (this.#goawaySent) return; // after GOAWAY new streams are ignored (never processed)
      if (this.#peerStreams >= this.settings.maxConcurrentStreams) {
        this.#countReset();
        this.#out.frame(encodeRstStream(id, Http2ErrorCode.RefusedStream));
        return;
      }
      s = new Stream(id, this.#peer.initialWindow, this.#localStreamWindow(), false);
      this.#streams.set(id, s);
      this.#peerStreams++;
    }
    if (s.remoteEnded) throw new Http2StreamError(id, Http2ErrorCode.StreamClosed, 'HEADERS after END_STREAM');
    if (decoded.fields === null) {
      this.#headerListTooLarge(s, decoded.size);
      return;
    }
    const fields = decoded.fields;
    const kind = this.#blockKind(s, fields, endStream);
    const why = malformed(fields, kind);
    if (why !== null) throw new Http2StreamError(id, Http2ErrorCode.ProtocolError, why);
    s.blocks++;
    if (endStream) this.#remoteEnd(s);
    s.announced = true;
    this.#handler.onStreamHeaders(id, fields, endStream);
    if (endStream) this.#maybeClose(s);
  }

  #blockKind(s: Stream, fields: string[], endStream: boolean): BlockKind {
    if (this.role === 'server') {
      if (s.blocks === 0) return BlockKind.Request;
      if (!endStream) throw new Http2StreamError(s.id, Http2ErrorCode.ProtocolError, 'second header block without END_STREAM');
      return BlockKind.Trailers;
    }
    if (s.finalHead) {
      if (!endStream) throw new Http2StreamError(s.id, Http2ErrorCode.ProtocolError, 'trailers without END_STREAM');
      return BlockKind.Trailers;
    }
    const status = fields[0] === ':status' ? fields[1]! : '';
    if (!(status.length === 3 && status.charCodeAt(0) === 49 /* '1' */)) s.finalHead = true;
    return BlockKind.Response;
  }

  /** RFC 9113 §10.5.1: a server answers 431, a client discards the response (the stream is cancelled). */
  #headerListTooLarge(s: Stream, size: number): void {
    const message = `header list of ${size} bytes exceeds SETTINGS_MAX_HEADER_LIST_SIZE ${this.settings.maxHeaderListSize}`;
    if (this.role === 'server' && s.blocks === 0) {
      this.#out.frame(encodeHeaders(s.id, this.#encoder.encode([':status', '431']), true, this.#peer.maxFrame));
      if (s.remoteEnded) this.#remove(s);
      else {
        this.#out.frame(encodeRstStream(s.id, Http2ErrorCode.NoError));
        this.#remove(s);
      }
      return;
    }
    throw new Http2StreamError(s.id, Http2ErrorCode.Cancel, message);
  }

  #onData(id: number, data: Buffer, endStream: boolean, flowLength: number): void {
    const flow = this.#flow;
    if (flowLength > flow.recvWindow) throw new Http2ConnectionError(Http2ErrorCode.FlowControlError, 'DATA past the connection window');
    flow.recvWindow -= flowLength;
    const s = this.#streams.get(id);
    if (s === undefined) {
      if (this.#isIdle(id)) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, `DATA on idle stream ${id}`);
      // A stream already closed: the bytes still count against the connection window.
      flow.creditConnection(flowLength);
      return;
    }
    if (s.remoteEnded || s.blocks === 0) {
      flow.creditConnection(flowLength);
      throw new Http2StreamError(id, Http2ErrorCode.StreamClosed, s.blocks === 0 ? 'DATA before HEADERS' : 'DATA after END_STREAM');
    }
    // Until our SETTINGS are acknowledged the peer may still count from the default window.
    const slack = this.#localSettingsAcked ? 0 : Math.max(0, DEFAULT_WINDOW - this.settings.initialStreamWindowSize);
    if (flowLength > s.recvWindow + slack) {
      flow.creditConnection(flowLength);
      throw new Http2StreamError(id, Http2ErrorCode.FlowControlError, 'DATA past the stream window');
    }
    s.recvWindow -= flowLength;
    if (data.length === 0 && !endStream) this.#control();
    // Padding is credited at once; the body when it has been passed on.
    flow.creditConnection(flowLength);
    s.unacked += flowLength;
    if (endStream) this.#remoteEnd(s);
    this.#handler.onStreamData(id, data, endStream);
    if (endStream) this.#maybeClose(s);
    else if (this.#streams.get(id) === s) flow.creditStream(s, false);
  }

  #onRst(id: number, code: number): void {
    const s = this.#streams.get(id);
    if (s === undefined) {
      if (this.#isIdle(id)) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, `RST_STREAM on idle stream ${id}`);
      return;
    }
    // Rapid reset (CVE-2023-44487): open, reset, repeat costs the peer nothing and us a stream each time.
    if (this.role === 'server') this.#countReset();
    this.#remove(s);
    if (s.announced) this.#handler.onStreamReset(id, code, true);
  }

  #onGoaway(lastStreamId: number, code: number, debug: Buffer): void {
    this.#goawayReceived = true;
    const text = debug.toString('utf8');
    // Streams we opened past lastStreamId were never processed: they fail as refused (safe to retry).
    if (this.role === 'client') {
      for (const s of [...this.#streams.values()]) {
        if (s.id > lastStreamId) {
          this.#remove(s);
          this.#handler.onStreamReset(s.id, Http2ErrorCode.RefusedStream, true);
        }
      }
    }
    this.#handler.onGoaway?.(lastStreamId, code, text);
    if (code !== Http2ErrorCode.NoError && !this.#closed) {
      // The peer ended the connection for an error: nothing more will be answered on it.
      this.#finish(`peer sent GOAWAY ${errorCodeName(code)}${text === '' ? '' : `: ${text}`}`, code, true);
      return;
    }
    this.#closeIfDone();
  }

  #onWindowUpdate(id: number, increment: number): void {
    if (id === 0) {
      this.#flow.sendWindow += increment;
      if (this.#flow.sendWindow > MAX_WINDOW) throw new Http2ConnectionError(Http2ErrorCode.FlowControlError, 'connection window above 2^31-1');
      this.#flow.flushAll();
      return;
    }
    const s = this.#streams.get(id);
    if (s === undefined) {
      if (this.#isIdle(id)) throw new Http2ConnectionError(Http2ErrorCode.ProtocolError, `WINDOW_UPDATE on idle stream ${id}`);
      return;
    }
    s.sendWindow += increment;
    if (s.sendWindow > MAX_WINDOW) throw new Http2StreamError(id, Http2ErrorCode.FlowControlError, 'stream window above 2^31-1');
    if (s.queuedBytes > 0 || s.endQueued) this.#flow.flush(s);
  }

  #localStreamWindow(): number {
    return this.settings.initialStreamWindowSize;
  }

  // ───────────── stream life ─────────────

  #isIdle(id: number): boolean {
    const local = (id & 1) === (this.role === 'client' ? 1 : 0);
    return local ? id >= this.#nextLocalStream : id > this.#lastPeerStream;
  }

  #localEnd(s: Stream): void {
    s.state = s.state === StreamState.HalfClosedRemote ? StreamState.Closed : StreamState.HalfClosedLocal;
    this.#maybeClose(s);
  }

  #remoteEnd(s: Stream): void {
    s.state = s.state === StreamState.HalfClosedLocal ? StreamState.Closed : StreamState.HalfClosedRemote;
  }

  #maybeClose(s: Stream): void {
    if (s.state === StreamState.Closed && this.#streams.get(s.id) === s && s.queuedBytes === 0 && !s.endQueued) this.#remove(s);
  }

  #remove(s: Stream): void {
    if (this.#streams.get(s.id) !== s) return;
    s.state = StreamState.Closed;
    this.#streams.delete(s.id);
    this.#flow.pendingOut.delete(s);
    s.queue = [];
    s.queuedBytes = 0;
    const peerInitiated = (s.id & 1) === (this.role === 'server' ? 1 : 0);
    if (peerInitiated) this.#peerStreams--;
    else this.#localStreams--;
    this.#closeIfDone();
  }

  #countReset(): void {
    if (!this.#resets.take()) {
      throw new Http2ConnectionError(Http2ErrorCode.EnhanceYourCalm, `more than ${this.settings.maxResetsPerSecond} stream resets per second`);
    }
  }

  #closeIfDone(): void {
    if (this.#closed || this.#streams.size > 0) return;
    if (this.#goawaySent || this.#goawayReceived) this.#finish(this.#goawaySent ? 'GOAWAY sent and every stream done' : 'peer sent GOAWAY and every stream is done', Http2ErrorCode.NoError, false);
  }

  #streamError(err: Http2StreamError): void {
    // Every reset we are made to send counts too: bad frames must not buy unbounded RST_STREAMs.
    if (this.role === 'server') this.#countReset();
    const s = this.#streams.get(err.streamId);
    this.#out.frame(encodeRstStream(err.streamId, err.code));
    if (s === undefined) return;
    this.#remove(s);
    if (s.announced) this.#handler.onStreamReset(s.id, err.code, false);
  }

  #connectionError(err: Http2ConnectionError): void {
    if (this.#closed) return;
    this.#out.frame(encodeGoaway(this.#lastPeerStream, err.code, err.message));
    this.#finish(err.message, err.code, false);
  }

  #finish(reason: string, code: number, byPeer: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#ackTimer);
    clearTimeout(this.#headersTimer);
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#flow.pendingOut.clear();
    const streamCode = code === Http2ErrorCode.NoError ? CONNECTION_GONE : code;
    for (const s of streams) {
      if (s.announced) this.#handler.onStreamReset(s.id, streamCode, byPeer || code === CONNECTION_GONE);
    }
    this.#out.flush(); // the GOAWAY (or the last frames) before the close
    this.#transport.close(reason);
    this.#handler.onConnectionClosed(reason, code);
  }

  /** The highest stream id the peer opened (what a GOAWAY names). */
  get lastPeerStreamId(): number {
    return this.#lastPeerStream;
  }

  /** For tests and stats: the peer's header list limit (Infinity until it says). */
  get peerMaxHeaderListSize(): number {
    return this.#peer.maxHeaderList;
  }
}
