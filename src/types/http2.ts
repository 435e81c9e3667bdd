/**
 * HTTP/2 (RFC 9113) — the wire vocabulary and the interfaces of Ringside's own HTTP/2 connection
 * engine (src/protocol/http2). The stream layer (src/stream/http2) programs against these; nothing
 * here imports an implementation.
 */

/** The client connection preface (RFC 9113 §3.4), followed by a SETTINGS frame. */
export const HTTP2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

export enum FrameType {
  Data = 0x0,
  Headers = 0x1,
  Priority = 0x2,
  RstStream = 0x3,
  Settings = 0x4,
  PushPromise = 0x5,
  Ping = 0x6,
  Goaway = 0x7,
  WindowUpdate = 0x8,
  Continuation = 0x9,
}

export const FrameFlag = {
  EndStream: 0x1,
  Ack: 0x1,
  EndHeaders: 0x4,
  Padded: 0x8,
  Priority: 0x20,
} as const;

/** RFC 9113 §7 error codes. */
export enum Http2ErrorCode {
  NoError = 0x0,
  ProtocolError = 0x1,
  InternalError = 0x2,
  FlowControlError = 0x3,
  SettingsTimeout = 0x4,
  StreamClosed = 0x5,
  FrameSizeError = 0x6,
  RefusedStream = 0x7,
  Cancel = 0x8,
  CompressionError = 0x9,
  ConnectError = 0xa,
  EnhanceYourCalm = 0xb,
  InadequateSecurity = 0xc,
  Http11Required = 0xd,
}

export enum SettingId {
  HeaderTableSize = 0x1,
  EnablePush = 0x2,
  MaxConcurrentStreams = 0x3,
  InitialWindowSize = 0x4,
  MaxFrameSize = 0x5,
  MaxHeaderListSize = 0x6,
}

/** One decoded frame. Payload buffers are views valid only during the callback that carries them. */
export type Http2Frame =
  | { type: FrameType.Data; streamId: number; endStream: boolean; data: Buffer; /** bytes counted by flow control (padding included) */ flowLength: number }
  | { type: FrameType.Headers; streamId: number; endStream: boolean; /** the whole header block, CONTINUATIONs joined */ block: Buffer }
  | { type: FrameType.Priority; streamId: number }
  | { type: FrameType.RstStream; streamId: number; code: number }
  | { type: FrameType.Settings; ack: boolean; settings: readonly (readonly [number, number])[] }
  | { type: FrameType.PushPromise; streamId: number }
  | { type: FrameType.Ping; ack: boolean; data: Buffer }
  | { type: FrameType.Goaway; lastStreamId: number; code: number; debug: Buffer }
  | { type: FrameType.WindowUpdate; streamId: number; increment: number };

/** Limits and windows of one side of a connection; every one is configurable (cluster/listener `http2`). */
export interface Http2Settings {
  /** Streams the peer may open on us at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly maxConcurrentStreams: number;
  /** Our receive window per stream (SETTINGS_INITIAL_WINDOW_SIZE): what one stream may have in flight to us. */
  readonly initialStreamWindowSize: number;
  /** Our receive window for the whole connection (grown by WINDOW_UPDATE on stream 0 after the preface). */
  readonly initialConnectionWindowSize: number;
  /** Largest frame payload we accept (SETTINGS_MAX_FRAME_SIZE, 16384–16777215). */
  readonly maxFrameSize: number;
  /** Largest decoded header list we accept (SETTINGS_MAX_HEADER_LIST_SIZE: names + values + 32 per field). */
  readonly maxHeaderListSize: number;
  /** Our HPACK decoder's table size (SETTINGS_HEADER_TABLE_SIZE). */
  readonly headerTableSize: number;
  /**
   * Rapid-reset bound (CVE-2023-44487): streams the peer may reset or have refused per second over
   * the connection's life before it is closed with ENHANCE_YOUR_CALM.
   */
  readonly maxResetsPerSecond: number;
  /** Control frames (PING, SETTINGS, empty DATA/HEADERS…) tolerated per second before ENHANCE_YOUR_CALM. */
  readonly maxControlFramesPerSecond: number;
  /** Our SETTINGS must be acknowledged this long after they were sent (ms), or SETTINGS_TIMEOUT; 0 = no limit. */
  readonly settingsAckTimeoutMs: number;
  /**
   * A header block must be complete this long after it started (ms): the connection preface and the
   * peer's first SETTINGS on a server connection, a HEADERS frame's CONTINUATIONs on any; past it the
   * connection is closed (PROTOCOL_ERROR). 0 = no limit.
   */
  readonly headersTimeoutMs: number;
}

/** Where a stream is in RFC 9113 §5.1's life cycle (reserved states never occur: push is refused). */
export enum StreamState {
  Idle = 0,
  Open = 1,
  /** We sent END_STREAM; the peer may still send. */
  HalfClosedLocal = 2,
  /** The peer sent END_STREAM; we may still send. */
  HalfClosedRemote = 3,
  Closed = 4,
}

/** One header field as decoded (names are lower case on the wire, RFC 9113 §8.2). */
export type HeaderList = string[];

/** What the connection engine reports to the layer above. Buffers are valid only during the call. */
export interface Http2ConnectionHandler {
  /**
   * A header block for a stream: the request/response head (first), informational 1xx heads, or
   * trailers (a later block, always with endStream). `fields` is a flat [name, value, …] list.
   */
  onStreamHeaders(streamId: number, fields: HeaderList, endStream: boolean): void;
  /** Body bytes of a stream (padding removed); call consumed() once they have been passed on. */
  onStreamData(streamId: number, data: Buffer, endStream: boolean): void;
  /** The stream ended abnormally: the peer reset it, or the connection reset it for a stream error. */
  onStreamReset(streamId: number, code: number, byPeer: boolean): void;
  /** Queued output of the stream fell below the low watermark after it had passed the high one. */
  onStreamWritable?(streamId: number): void;
  /** The peer sent GOAWAY: streams above lastStreamId were not processed (safe to retry elsewhere). */
  onGoaway?(lastStreamId: number, code: number, debug: string): void;
  /** The connection is finished (error, GOAWAY and every stream done, or close()). Called once. */
  onConnectionClosed(reason: string, code: number): void;
  /** The peer's SETTINGS arrived (first time: the connection is usable for new streams). */
  onRemoteSettings?(): void;
  /**
   * One of the engine's deadlines passed. A handler whose engine an actor drives tells that actor
   * (the timer mutates nothing), and the actor calls `engine.expire(deadline, armed)` on its turn;
   * without this method the engine applies the deadline from the timer itself.
   */
  onDeadline?(deadline: Http2Deadline, armed: number): void;
}

/**
 * The deadlines an HTTP/2 connection arms itself (`Http2Settings`): our SETTINGS not acknowledged in
 * `settingsAckTimeoutMs` (GOAWAY SETTINGS_TIMEOUT), and a header block — or a server connection's
 * preface and first SETTINGS — not complete in `headersTimeoutMs` (GOAWAY PROTOCOL_ERROR). Each
 * arming has a number (`armed`): an expiry that reaches the engine after its timer was cleared or
 * re-armed (the acknowledgement or the block arrived first) changes nothing.
 */
export enum Http2Deadline {
  SettingsAck = 'settings-ack',
  Headers = 'headers',
}

/** The output side the engine writes to: one call per batch of frames. */
export interface Http2Transport {
  write(data: Buffer): void;
  /** Called once when the engine is finished; what was written must still go out. */
  close(reason: string): void;
}
