/** The dubbo codec's public surface. */
export * from './constants.js';
export { detectDubbo, frame, readId, writeId, writeHeader, isRequest, isTwoWay, isEvent, serializationOf, MAX_ID } from './framing.js';
export { decodeRequestHead, decodeRequestRest, type DubboRequestHead } from './head.js';
export { countArguments, descriptorOf, inferJavaType, toJavaArgument } from './descriptor.js';
export {
  encodeInvocation,
  encodeInvocationBody,
  requestFrame,
  heartbeatRequest,
  heartbeatResponse,
  errorResponse,
  valueResponse,
  exceptionResponse,
  decodeResult,
  type DubboInvocation,
  type DubboInvocationBody,
  type DubboResult,
} from './messages.js';
export { dubboReplyOf, httpClassOfDubboStatus, type DubboErrorReply } from './status.js';
export { DUBBO, DubboRequest, DubboResponse, DubboRequestHeaders } from './frames.js';
export { dubboCodec } from './codec.js';
