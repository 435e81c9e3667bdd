/**
 * Whole dubbo messages Ringside builds or reads itself: the runtime channel's requests (JSON calls),
 * heartbeats and their answers, the codec's error replies, and the decoded result of a response.
 * The proxy path never uses the argument encoders here: it forwards the bytes it received.
 */
import { RingsideError } from '../../common/errors.js';
import { DEFAULT_DUBBO_VERSION, DubboStatus, FLAG_EVENT, FLAG_REQUEST, FLAG_TWO_WAY, HESSIAN2, ResultFlag, dubboStatusName } from './constants.js';
import { frame } from './framing.js';
import { hessianDecoder, hessianEncoder } from './hessian.js';
import { stringEntries } from './head.js';

/** hessian2 `N`: the null body of a heartbeat and of its answer. */
const NULL_BODY = Buffer.from([0x4e]);

export interface DubboInvocationBody {
  dubboVersion?: string;
  service: string;
  version: string;
  method: string;
  descriptor: string;
  /** Arguments as hessian.js writes them (values tagged with js-to-java where the type matters). */
  args: readonly unknown[];
  attachments: Record<string, string>;
}

export interface DubboInvocation extends DubboInvocationBody {
  id: number;
  /** false: oneway (no answer expected). */
  twoWay: boolean;
}

/** The body DubboCodec writes for an invocation: head strings, arguments, attachments. */
export function encodeInvocationBody(inv: DubboInvocationBody): Buffer {
  const enc = hessianEncoder();
  enc.writeString(inv.dubboVersion ?? DEFAULT_DUBBO_VERSION);
  enc.writeString(inv.service);
  enc.writeString(inv.version);
  enc.writeString(inv.method);
  enc.writeString(inv.descriptor);
  for (const a of inv.args) enc.write(a);
  // Dubbo's provider finds the service by `path` (and `version`, `group`) from the attachments too.
  const attachments: Record<string, string> = { path: inv.service, interface: inv.service, ...inv.attachments };
  if (inv.version !== '') attachments['version'] = inv.version;
  enc.write(attachments);
  return enc.get();
}

/** A whole request frame for an invocation. */
export function encodeInvocation(inv: DubboInvocation): Buffer {
  return requestFrame(inv.id, inv.twoWay, encodeInvocationBody(inv));
}

/** A request frame around an already-encoded body (Layotto's opaque `data`). */
export function requestFrame(id: number, twoWay: boolean, body: Buffer): Buffer {
  return frame(FLAG_REQUEST | (twoWay ? FLAG_TWO_WAY : 0) | HESSIAN2, 0, id, body);
}

export function heartbeatRequest(id: number): Buffer {
  return frame(FLAG_REQUEST | FLAG_TWO_WAY | FLAG_EVENT | HESSIAN2, 0, id, NULL_BODY);
}

/** The answer to a heartbeat, in the serialization the heartbeat came in. */
export function heartbeatResponse(id: number, serialization: number = HESSIAN2): Buffer {
  return frame(FLAG_EVENT | serialization, DubboStatus.OK, id, NULL_BODY);
}

/** An error response: a status other than OK and a hessian2 string message (what Dubbo's clients read). */
export function errorResponse(id: number, status: number, message: string): Buffer {
  const enc = hessianEncoder();
  enc.writeString(message);
  return frame(HESSIAN2, status, id, enc.get());
}

/** An OK response carrying `value` (null: the NULL_VALUE flag) and optional attachments. */
export function valueResponse(id: number, value: unknown, attachments?: Record<string, string>): Buffer {
  const enc = hessianEncoder();
  const withAtt = attachments !== undefined;
  if (value === null || value === undefined) {
    enc.writeInt(withAtt ? ResultFlag.NULL_VALUE_WITH_ATTACHMENTS : ResultFlag.NULL_VALUE);
  } else {
    enc.writeInt(withAtt ? ResultFlag.VALUE_WITH_ATTACHMENTS : ResultFlag.VALUE);
    enc.write(value);
  }
  if (withAtt) enc.write(attachments);
  return frame(HESSIAN2, DubboStatus.OK, id, enc.get());
}

/** An OK response whose result is an exception thrown by the service. */
export function exceptionResponse(id: number, exception: unknown, attachments?: Record<string, string>): Buffer {
  const enc = hessianEncoder();
  enc.writeInt(attachments !== undefined ? ResultFlag.WITH_EXCEPTION_WITH_ATTACHMENTS : ResultFlag.WITH_EXCEPTION);
  enc.write(exception);
  if (attachments !== undefined) enc.write(attachments);
  return frame(HESSIAN2, DubboStatus.OK, id, enc.get());
}

/** A response body, decoded. */
export type DubboResult =
  | { kind: 'value'; value: unknown; attachments: Record<string, string> }
  | { kind: 'null'; attachments: Record<string, string> }
  | { kind: 'exception'; exception: unknown; attachments: Record<string, string> }
  /** status other than OK: the message the server wrote. */
  | { kind: 'error'; status: number; message: string };

function badResponse(message: string, cause?: unknown): RingsideError {
  return new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', message, cause === undefined ? {} : { cause });
}

/** Decodes a response body; throws UPSTREAM_BAD_RESPONSE on bytes hessian2 cannot read. */
export function decodeResult(status: number, body: Buffer): DubboResult {
  const dec = hessianDecoder(body);
  try {
    if (status !== DubboStatus.OK) {
      const msg = body.length === 0 ? null : dec.read();
      return { kind: 'error', status, message: typeof msg === 'string' ? msg : dubboStatusName(status) };
    }
    const flag = dec.read();
    const more = (): boolean => dec.byteBuffer.position() < body.length;
    // dubbo-remoting (the Node.js Dubbo peer) writes a falsy result — 0, false, null, '' — as the bare
    // value with no result flag. A body that is exactly one such value can only be that, since every
    // flag but NULL_VALUE is followed by content: read it as the result rather than fail the call.
    if (!more()) {
      if (flag === 0 || flag === false || flag === '') return { kind: 'value', value: flag, attachments: {} };
      if (flag === null) return { kind: 'null', attachments: {} };
    }
    switch (flag) {
      case ResultFlag.NULL_VALUE:
        return { kind: 'null', attachments: {} };
      case ResultFlag.VALUE:
        return { kind: 'value', value: dec.read(), attachments: {} };
      case ResultFlag.WITH_EXCEPTION:
        return { kind: 'exception', exception: dec.read(), attachments: {} };
      case ResultFlag.NULL_VALUE_WITH_ATTACHMENTS:
        return { kind: 'null', attachments: more() ? stringEntries(dec.read()) : {} };
      case ResultFlag.VALUE_WITH_ATTACHMENTS: {
        const value = dec.read();
        return { kind: 'value', value, attachments: more() ? stringEntries(dec.read()) : {} };
      }
      case ResultFlag.WITH_EXCEPTION_WITH_ATTACHMENTS: {
        const exception = dec.read();
        return { kind: 'exception', exception, attachments: more() ? stringEntries(dec.read()) : {} };
      }
      default:
        throw badResponse(`dubbo response: unknown result flag ${JSON.stringify(flag)} (expected 0..5)`);
    }
  } catch (err) {
    if (err instanceof RingsideError) throw err;
    throw badResponse(`dubbo response: cannot decode the body: ${(err as Error).message}`, err);
  }
}
