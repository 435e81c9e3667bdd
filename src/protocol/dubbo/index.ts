/** The dubbo codec's public surface. */
export * from './constants.js';
export { FrameReader, detectDubbo, frame, rewriteId, readId, writeHeader, isRequest, isTwoWay, isEvent, serializationOf, type DubboRawFrame, type FramingFault } from './framing.js';
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
export { DUBBO, DubboRequest, DubboResponse, numericId } from './frames.js';
export { dubboCodec, registerDubbo, createDubboRequestDecoder, createDubboResponseDecoder, faultReply, DEFAULT_MAX_DUBBO_BODY } from './codec.js';
export { dubboProxyHooks } from './proxy-hooks.js';
