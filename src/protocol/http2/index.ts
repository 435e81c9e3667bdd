export { Http2Connection, CONNECTION_GONE, defaultHttp2Settings, type Http2ConnectionOptions, type Http2Role } from './connection.js';
export { Http2ConnectionError, Http2StreamError, errorCodeName } from './errors.js';
export { FrameParser } from './frame-parser.js';
export * as frames from './frames.js';
export { HpackDecoder, HpackEncoder } from './hpack.js';
