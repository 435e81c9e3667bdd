/**
 * The two kinds of HTTP/2 error (RFC 9113 §5.4): a connection error ends the whole connection with
 * GOAWAY and that code; a stream error resets one stream with RST_STREAM and leaves the others alone.
 */
import { Http2ErrorCode } from '../../types/http2.js';

const names: Record<number, string> = {
  [Http2ErrorCode.NoError]: 'NO_ERROR',
  [Http2ErrorCode.ProtocolError]: 'PROTOCOL_ERROR',
  [Http2ErrorCode.InternalError]: 'INTERNAL_ERROR',
  [Http2ErrorCode.FlowControlError]: 'FLOW_CONTROL_ERROR',
  [Http2ErrorCode.SettingsTimeout]: 'SETTINGS_TIMEOUT',
  [Http2ErrorCode.StreamClosed]: 'STREAM_CLOSED',
  [Http2ErrorCode.FrameSizeError]: 'FRAME_SIZE_ERROR',
  [Http2ErrorCode.RefusedStream]: 'REFUSED_STREAM',
  [Http2ErrorCode.Cancel]: 'CANCEL',
  [Http2ErrorCode.CompressionError]: 'COMPRESSION_ERROR',
  [Http2ErrorCode.ConnectError]: 'CONNECT_ERROR',
  [Http2ErrorCode.EnhanceYourCalm]: 'ENHANCE_YOUR_CALM',
  [Http2ErrorCode.InadequateSecurity]: 'INADEQUATE_SECURITY',
  [Http2ErrorCode.Http11Required]: 'HTTP_1_1_REQUIRED',
};

/** The RFC name of an error code ("PROTOCOL_ERROR"), or its hex for codes the RFC does not define. */
export function errorCodeName(code: number): string {
  return names[code] ?? `0x${code.toString(16)}`;
}

/** Ends the connection: GOAWAY(code) then close. */
export class Http2ConnectionError extends Error {
  readonly code: Http2ErrorCode;
  constructor(code: Http2ErrorCode, message: string) {
    super(`${errorCodeName(code)}: ${message}`);
    this.name = 'Http2ConnectionError';
    this.code = code;
  }
}

/** Ends one stream: RST_STREAM(code). */
export class Http2StreamError extends Error {
  readonly code: Http2ErrorCode;
  readonly streamId: number;
  constructor(streamId: number, code: Http2ErrorCode, message: string) {
    super(`stream ${streamId} ${errorCodeName(code)}: ${message}`);
    this.name = 'Http2StreamError';
    this.code = code;
    this.streamId = streamId;
  }
}
