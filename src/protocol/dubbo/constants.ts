/**
 * Dubbo's exchange protocol, as Apache Dubbo's ExchangeCodec writes it and MOSN's
 * `pkg/protocol/xprotocol/dubbo` reads it:
 *
 *   0      2      3        4                12            16
 *   +------+------+--------+-----------------+-------------+---------------------------+
 *   |magic | flag | status |  id (u64 BE)    | body length | body (serialization id 2:  |
 *   |0xdabb|      |        |                 |  (u32 BE)   | hessian2)                 |
 *   +------+------+--------+-----------------+-------------+---------------------------+
 *
 *   flag: 0x80 request, 0x40 two-way (an answer is expected), 0x20 event (heartbeat when the body is
 *   null), low 5 bits the serialization id. Status is meaningful on responses only.
 */
export const HEADER_BYTES = 16;
export const MAGIC = 0xdabb;
export const MAGIC_HIGH = 0xda;
export const MAGIC_LOW = 0xbb;

export const FLAG_REQUEST = 0x80;
export const FLAG_TWO_WAY = 0x40;
export const FLAG_EVENT = 0x20;
export const SERIALIZATION_MASK = 0x1f;
/** Dubbo's id for hessian2, the only serialization Ringside decodes. */
export const HESSIAN2 = 2;

/** Offsets inside the header. */
export const FLAG_AT = 2;
export const STATUS_AT = 3;
export const ID_AT = 4;
export const LENGTH_AT = 12;

/** Response status byte (org.apache.dubbo.remoting.exchange.Response). */
export const DubboStatus = {
  OK: 20,
  CLIENT_TIMEOUT: 30,
  SERVER_TIMEOUT: 31,
  BAD_REQUEST: 40,
  BAD_RESPONSE: 50,
  SERVICE_NOT_FOUND: 60,
  SERVICE_ERROR: 70,
  SERVER_ERROR: 80,
  CLIENT_ERROR: 90,
  SERVER_THREADPOOL_EXHAUSTED_ERROR: 100,
} as const;
export type DubboStatusCode = (typeof DubboStatus)[keyof typeof DubboStatus];

const STATUS_NAMES = new Map<number, string>(Object.entries(DubboStatus).map(([k, v]) => [v, k]));

/** The status' name (`SERVICE_NOT_FOUND`), or `status N` for a byte Dubbo does not define. */
export function dubboStatusName(status: number): string {
  return STATUS_NAMES.get(status) ?? `status ${status}`;
}

/** First hessian value of an OK response body: what follows it (DubboCodec's RESPONSE_* flags). */
export const ResultFlag = {
  WITH_EXCEPTION: 0,
  VALUE: 1,
  NULL_VALUE: 2,
  WITH_EXCEPTION_WITH_ATTACHMENTS: 3,
  VALUE_WITH_ATTACHMENTS: 4,
  NULL_VALUE_WITH_ATTACHMENTS: 5,
} as const;

/** The Dubbo version a request names when its caller gives none (Dubbo 2.x's default). */
export const DEFAULT_DUBBO_VERSION = '2.0.2';

/** Header names the codec fills from a request's head, as MOSN names them (routers match on them). */
export const DubboHeader = {
  FRAMEWORK_VERSION: 'dubbo',
  SERVICE: 'service',
  VERSION: 'version',
  METHOD: 'method',
  GROUP: 'group',
  INTERFACE: 'interface',
} as const;
