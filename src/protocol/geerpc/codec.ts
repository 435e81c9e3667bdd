/**
 * geerpc on the data plane: an XProtocolCodec, so the `proxy` filter serves `geerpc` downstream and
 * upstream with the X-protocol stream layer (many calls in flight per connection, Seq remapped per
 * upstream connection by its request-id counter, pooled upstream connections shared by every
 * downstream client).
 *
 * Why a per-connection session rather than a stateless codec like bolt's: a geerpc connection is one
 * gob stream per direction. Type definitions go out once per stream and type ids are numbered per
 * stream, so what a message's bytes mean depends on what the same connection carried before, and a
 * message cannot be forwarded as received. Each connection side gets a GeeSession (session()):
 *
 *   server side (a downstream client)     client side (an upstream connection)
 *   reads: the Option, then requests      writes: the Option before its first request
 *          their definitions → its table         definitions of relayed types, once per stream
 *   writes: replies, definitions once     reads: replies, their definitions → its table
 *
 * A body travels between sessions as its gob value bytes and its type's shape (gob/relay.ts): the
 * reading session checks the value against its stream's definitions without building it, the
 * writing one defines the shape on its own stream (once) and sends the same bytes under its id.
 *
 * The Option is read again on each decode until the first request is complete (decode() must not
 * consume what it does not return), and accepted only with geerpc's magic number and the gob codec:
 * otherwise the connection is logged and closed, as Go's server does. A header or body the table
 * cannot read fails the connection (with an error reply under its Seq when the header was read).
 */
import { RingsideError } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import type { DetectResult } from '../../types/protocol.js';
import type { XDecodeLimits, XDecodeResult, XFrame, XKeepalive, XProtocolCodec, XRequest, XResponse } from '../../types/xprotocol.js';
import { GobDecoder, GobError, GobRelaySender, gobMessageAt, shapeOf, type GobRelayType, type GobShape } from '../gob/index.js';
import { TypeId } from '../gob/types.js';
import { GobWriter } from '../gob/wire.js';
import { GOB_CODEC, MAGIC_NUMBER, encodeOption, readOption } from '../../geerpc/option.js';
import { GEERPC, GeeRequest, GeeResponse, joinServiceMethod } from './frames.js';
import { GeeStatus, geeErrorText, geeHttpStatusOf, geeStatusName, geeStatusOfError, geeStatusOfHttp } from './status.js';

const log = logger('protocol.geerpc');
const EMPTY = Buffer.alloc(0);
const NEED: XDecodeResult = { kind: 'need', bytes: 0 };
const OPTION_PREFIX = Buffer.from('{"MagicNumber"');

function shape(types: GobShape['types']): GobShape {
  return { key: JSON.stringify(types), types };
}

/** codec.Header: ServiceMethod string, Seq uint64, Error string. */
const HEADER_SHAPE = shape([{ kind: 'struct', name: 'Header', fields: [{ name: 'ServiceMethod', id: TypeId.string }, { name: 'Seq', id: TypeId.uint }, { name: 'Error', id: TypeId.string }] }]);
/** Go's `invalidRequest = struct{}{}`, the body of every error reply; its value is the end-of-struct 0. */
const EMPTY_STRUCT_SHAPE = shape([{ kind: 'struct', name: 'struct {}', fields: [] }]);
const EMPTY_STRUCT_VALUE = Buffer.from([0]);

/** The stateless part: detection, replies, status mapping. Frames are read and written by sessions. */
class GeerpcCodec implements XProtocolCodec {
  readonly name = GEERPC;
  /** Seq is a uint64; one connection's counter wraps long before a JS number would lose precision. */
  readonly maxRequestId = 0xffffffff;
  /** geerpc has no heartbeat frame: upstream connections are not probed (a lost one fails its calls). */
  readonly keepalive: XKeepalive = { intervalMs: 0, deadAfterMs: 0 };

  detect(first: Buffer): DetectResult {
    const n = Math.min(first.length, OPTION_PREFIX.length);
    if (first.subarray(0, n).equals(OPTION_PREFIX.subarray(0, n))) return n === OPTION_PREFIX.length ? 'match' : 'need-more';
    return 'no';
  }

  session(side: 'server' | 'client'): XProtocolCodec {
    return new GeeSession(side);
  }

  decode(_buf: Buffer, _limits: XDecodeLimits): XDecodeResult {
    throw new RingsideError('INTERNAL', 'internal', 'geerpc frames are read by a connection session (codec.session())');
  }

  encode(_frame: XFrame): Buffer {
    throw new RingsideError('INTERNAL', 'internal', 'geerpc frames are written by a connection session (codec.session())');
  }

  heartbeat(): XRequest {
    throw new RingsideError('INTERNAL', 'internal', 'geerpc has no heartbeat (its keepalive is off)');
  }

  heartbeatReply(): XResponse {
    throw new RingsideError('INTERNAL', 'internal', 'geerpc has no heartbeat');
  }

  goAway(): XRequest | null {
    return null;
  }

  reply(request: XRequest | null, status: number): XResponse {
    const r = request as GeeRequest | null;
    return new GeeResponse(r?.requestId ?? 0, r?.serviceMethod ?? '', status, '', null, EMPTY);
  }

  errorReply(request: XRequest | null, err: RingsideError): XResponse {
    const r = request as GeeRequest | null;
    return new GeeResponse(r?.requestId ?? 0, r?.serviceMethod ?? '', geeStatusOfError(err), geeErrorText(err), null, EMPTY);
  }

  statusOfError(err: RingsideError): number {
    return geeStatusOfError(err);
  }

  statusOfHttp(httpStatus: number): number {
    return geeStatusOfHttp(httpStatus);
  }

  httpStatusOf(response: XResponse): number {
    return geeHttpStatusOf(response.status);
  }

  unprocessed(response: XResponse): boolean {
    // Refused before any service ran it: no route, no host, overflow, a connection that failed first.
    const s = response.status;
    return s === GeeStatus.NO_ROUTE || s === GeeStatus.NO_HEALTHY_HOST || s === GeeStatus.OVERFLOW;
  }

  newRequest(service: string, method: string, _headers: Record<string, string>, content: Buffer, timeoutMs: number): XRequest {
    return new GeeRequest(0, joinServiceMethod(service, method), timeoutMs, null, content);
  }
}

/** Where a message's type id says it is a definition: the gob int's sign is the low bit of its uint. */
function isDefinition(buf: Buffer, start: number): boolean {
  const b = buf[start]!;
  const last = b < 128 ? b : buf[start + (256 - b)]!;
  return (last & 1) === 1;
}

class GeeSession extends GeerpcCodec {
  readonly #side: 'server' | 'client';
  readonly #dec = new GobDecoder();
  readonly #send = new GobRelaySender();
  /** Shapes of this stream's type ids, worked out once each. */
  readonly #shapes = new Map<number, GobRelayType>();
  readonly #writer = new GobWriter(128);
  /** Server: an Option was accepted (and consumed with the first request); client: the Option went out. */
  #optionDone = false;
  /** The downstream's Option HandleTimeout, in ms (server side). */
  #handleTimeoutMs = 0;

  constructor(side: 'server' | 'client') {
    super();
    this.#side = side;
  }

  override session(): XProtocolCodec {
    return this;
  }

  override decode(buf: Buffer, limits: XDecodeLimits): XDecodeResult {
    let off = 0;
    let handleMs = this.#handleTimeoutMs;
    if (this.#side === 'server' && !this.#optionDone) {
      const r = readOption(buf);
      if (r.kind === 'incomplete') return NEED;
      if (r.kind === 'error') return this.#refuse(`rpc server: ${r.message}`);
      const o = r.option;
      if (o.MagicNumber !== MAGIC_NUMBER) return this.#refuse(`rpc server: invalid magic number ${o.MagicNumber.toString(16)}`);
      if (o.CodecType !== GOB_CODEC) return this.#refuse(`rpc server: invalid codec type ${o.CodecType} (the geerpc proxy relays ${GOB_CODEC})`);
      off = buf.length - r.rest.length;
      handleMs = o.HandleTimeout > 0 ? Math.max(1, Math.ceil(o.HandleTimeout / 1e6)) : 0;
    }
    // Frame first, decode after: a pair is decoded only once all of its messages are here, so a
    // 'need' leaves the stream's type table as it was.
    const max = limits.maxHeaderBytes + limits.maxContentBytes;
    let pos = off;
    let values = 0;
    let headerStart = -1;
    let bodyStart = -1;
    let bodyEnd = -1;
    try {
      while (values < 2) {
        const m = gobMessageAt(buf, pos, max);
        if (typeof m === 'number') return m === 0 ? NEED : { kind: 'need', bytes: pos + m };
        if (!isDefinition(buf, m.start)) {
          if (++values === 1) {
            headerStart = m.start;
            if (m.end - m.start > limits.maxHeaderBytes) return this.#bad(`geerpc: a header of ${m.end - m.start} bytes passes the limit of ${limits.maxHeaderBytes}`, undefined, 'LIMIT_EXCEEDED');
          } else {
            bodyStart = m.start;
            bodyEnd = m.end;
            if (m.end - m.start > limits.maxContentBytes) return this.#bad(`geerpc: a body of ${m.end - m.start} bytes passes the limit of ${limits.maxContentBytes}`, undefined, 'LIMIT_EXCEEDED');
          }
        }
        pos = m.end;
        if (pos - off > max) return this.#bad(`geerpc: a message pair passes ${max} bytes`, undefined, 'LIMIT_EXCEEDED');
      }
    } catch (err) {
      if (err instanceof GobError) return this.#bad(err.message, undefined);
      throw err;
    }
    const dec = this.#dec;
    let seq: number | undefined;
    try {
      // Definitions before the header, the header, definitions before the body: in stream order.
      let at = off;
      let header: unknown;
      while (at < pos) {
        const m = gobMessageAt(buf, at, max) as { start: number; end: number };
        at = m.end;
        if (m.start === bodyStart) break;
        const v = dec.decodeMessage(buf, m.start, m.end);
        if (m.start === headerStart) header = v;
      }
      const h = checkHeader(header);
      if (typeof h === 'string') return this.#bad(`geerpc: ${h}`, undefined);
      seq = h.Seq;
      const scanned = dec.scanValue(buf, bodyStart, bodyEnd);
      let type = this.#shapes.get(scanned.id);
      if (type === undefined) {
        type = shapeOf(dec, scanned.id);
        if (typeof type !== 'number') this.#shapes.set(scanned.id, type);
      }
      // The frame's own copy: the read buffer is reused after this call.
      const content = Buffer.from(buf.subarray(scanned.valueStart, bodyEnd));
      let frame: XFrame;
      if (this.#side === 'server') {
        this.#optionDone = true;
        this.#handleTimeoutMs = handleMs;
        frame = new GeeRequest(h.Seq, h.ServiceMethod, handleMs, type, content);
      } else {
        frame = new GeeResponse(h.Seq, h.ServiceMethod, h.Error === '' ? GeeStatus.OK : GeeStatus.SERVICE_ERROR, h.Error, type, content);
      }
      return { kind: 'frame', frame, bytes: pos };
    } catch (err) {
      if (err instanceof GobError) return this.#bad(`rpc server: gob: ${err.message}`, seq);
      throw err;
    }
  }

  override encode(frame: XFrame): Buffer {
    const out: Buffer[] = [];
    if (this.#side === 'client' && !this.#optionDone) {
      // HandleTimeout 0: the proxy bounds each call itself (route timeout, the caller's HandleTimeout).
      out.push(encodeOption({ MagicNumber: MAGIC_NUMBER, CodecType: GOB_CODEC, ConnectTimeout: 0, HandleTimeout: 0 }));
      this.#optionDone = true;
    }
    let serviceMethod: string;
    let error = '';
    let bodyType: GobRelayType | null;
    let content = frame.content;
    if (frame.kind === 'request') {
      const r = frame as GeeRequest;
      serviceMethod = r.serviceMethod;
      bodyType = r.bodyType;
    } else {
      const r = frame as GeeResponse;
      serviceMethod = r.serviceMethod;
      bodyType = r.bodyType;
      if (r.status !== GeeStatus.OK) {
        error = r.error !== '' ? r.error : content.length > 0 && bodyType === null ? content.toString('utf8') : `ringside: ${geeStatusName(r.status)}`;
        if (bodyType === null) content = EMPTY;
      }
    }
    const send = this.#send;
    const w = this.#writer;
    const headerId = send.idOf(HEADER_SHAPE, out);
    w.reset();
    w.int(headerId);
    let last = -1;
    if (serviceMethod !== '') {
      w.uint(0 - last);
      last = 0;
      w.string(serviceMethod);
    }
    if (frame.requestId !== 0) {
      w.uint(1 - last);
      last = 1;
      w.uint(frame.requestId);
    }
    if (error !== '') {
      w.uint(2 - last);
      w.string(error);
    }
    w.byte(0);
    out.push(w.message());
    if (bodyType === null) {
      if (content.length === 0) out.push(send.value(send.idOf(EMPTY_STRUCT_SHAPE, out), EMPTY_STRUCT_VALUE));
      else {
        // Text (a route's direct_response body): a gob string, the singleton's 0 delta first.
        w.reset();
        w.int(TypeId.string);
        w.uint(0);
        w.bytes(content);
        out.push(w.message());
      }
    } else {
      const id = send.idOf(bodyType, out);
      out.push(send.value(id, content));
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** A connection that does not speak geerpc: logged and closed without an answer, as Go's server does. */
  #refuse(message: string): XDecodeResult {
    log.warn(message);
    return { kind: 'error', error: new RingsideError('BAD_REQUEST', this.#source(), message, { retryable: false }), requestId: undefined, request: false };
  }

  #bad(message: string, seq: number | undefined, code: 'BAD_REQUEST' | 'LIMIT_EXCEEDED' = 'BAD_REQUEST'): XDecodeResult {
    const source = this.#source();
    const err = new RingsideError(source === 'upstream' && code === 'BAD_REQUEST' ? 'UPSTREAM_BAD_RESPONSE' : code, source, message, { retryable: false });
    return { kind: 'error', error: err, requestId: seq, request: this.#side === 'server' && seq !== undefined };
  }

  #source(): 'downstream' | 'upstream' {
    return this.#side === 'server' ? 'downstream' : 'upstream';
  }
}

interface Header {
  ServiceMethod: string;
  Seq: number;
  Error: string;
}

function checkHeader(v: unknown): Header | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Map) return 'the header is not a struct';
  const h = v as Record<string, unknown>;
  const method = h.ServiceMethod ?? '';
  const seq = h.Seq ?? 0;
  const error = h.Error ?? '';
  if (typeof method !== 'string' || typeof error !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    return 'header fields have the wrong types (ServiceMethod string, Seq uint64 below 2^53, Error string)';
  }
  return { ServiceMethod: method, Seq: seq, Error: error };
}

/** The codec registered as `geerpc`. */
export const geerpcCodec: XProtocolCodec = new GeerpcCodec();
