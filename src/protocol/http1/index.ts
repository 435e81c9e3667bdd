/** The HTTP/1.x codec's public surface. */
export { http1Codec, registerHttp1, detectHttp1 } from './codec.js';
export { createHttp1RequestDecoder, createHttp1ResponseDecoder, defaultLimits } from './decoder.js';
export {
  createHttp1RequestEncoder,
  createHttp1ResponseEncoder,
  CONTINUE_100,
  type AnsweredRequest,
  type Http1Encoder,
} from './encoder.js';
export { H1Request, H1Response, HTTP1, reasonPhrase } from './heads.js';
export { encodeErrorResponse, encodeSimpleResponse, localReplyHead, statusOfError } from './replies.js';
export { http1ProxyHooks, appendForwardedFor, appendVia, isIdempotent } from './proxy-hooks.js';
