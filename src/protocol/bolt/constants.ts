/**
 * Bolt wire constants (SOFABolt's RpcProtocol and RpcProtocolV2, as MOSN's xprotocol/bolt and
 * xprotocol/boltv2 read them). Every multi-byte field is big-endian.
 *
 *   v1 request  (22-byte fixed part)  proto type cmdcode:2 ver2 requestId:4 codec timeout:4 classLen:2 headerLen:2 contentLen:4
 *   v1 response (20-byte fixed part)  proto type cmdcode:2 ver2 requestId:4 codec status:2  classLen:2 headerLen:2 contentLen:4
 *   v2 request  (24)  proto ver1 type cmdcode:2 ver2 requestId:4 codec switch timeout:4 classLen:2 headerLen:2 contentLen:4
 *   v2 response (22)  proto ver1 type cmdcode:2 ver2 requestId:4 codec switch status:2  classLen:2 headerLen:2 contentLen:4
 *   then class name, header map, content; v2 with switch bit 0 set: a CRC32 of the frame after them.
 */

export const BOLT = 'bolt';
export const BOLTV2 = 'boltv2';

export const PROTO_V1 = 0x01;
export const PROTO_V2 = 0x02;

/** Command type byte. */
export const TYPE_RESPONSE = 0;
export const TYPE_REQUEST = 1;
export const TYPE_ONEWAY = 2;

/** Command codes. */
export const CMD_HEARTBEAT = 0;
export const CMD_REQUEST = 1;
export const CMD_RESPONSE = 2;
/** MOSN's control command: the peer takes no new request on this connection. */
export const CMD_GOAWAY = 100;

/** ver2 and the v2 ver1 byte Ringside writes on frames it makes itself. */
export const VERSION = 1;
/** Hessian2, the serializer SOFARPC uses; written on frames Ringside makes itself. */
export const CODEC_HESSIAN2 = 1;
/** v2 switch byte: bit 0 turns the trailing CRC32 on. */
export const SWITCH_CRC = 0x01;

export const V1_REQUEST_FIXED = 22;
export const V1_RESPONSE_FIXED = 20;
export const V2_REQUEST_FIXED = 24;
export const V2_RESPONSE_FIXED = 22;

/** A header string length of 0xFFFFFFFF is a null value (SOFARPC's SimpleMapSerializer). */
export const NULL_LENGTH = 0xffffffff;

/** Response status codes (SOFABolt ResponseStatus). */
export const BoltStatus = {
  SUCCESS: 0x00,
  ERROR: 0x01,
  SERVER_EXCEPTION: 0x02,
  UNKNOWN: 0x03,
  SERVER_THREADPOOL_BUSY: 0x04,
  ERROR_COMM: 0x05,
  NO_PROCESSOR: 0x06,
  TIMEOUT: 0x07,
  CLIENT_SEND_ERROR: 0x08,
  CODEC_EXCEPTION: 0x09,
  CONNECTION_CLOSED: 0x10,
  SERVER_SERIAL_EXCEPTION: 0x11,
  SERVER_DESERIAL_EXCEPTION: 0x12,
} as const;

/** The class name SOFARPC puts on its requests and responses (kept as received when forwarding). */
export const SOFA_REQUEST_CLASS = 'com.alipay.sofa.rpc.core.request.SofaRequest';
export const SOFA_RESPONSE_CLASS = 'com.alipay.sofa.rpc.core.response.SofaResponse';

/** Header fields SOFARPC sends: the service unique name, and (protobuf codec) the method. */
export const HEADER_SERVICE = 'service';
export const HEADER_METHOD = 'sofa_head_method_name';
export const HEADER_TARGET_SERVICE = 'sofa_head_target_service';
