/**
 * The bolt v1 and boltv2 codecs (SOFABolt's RpcProtocol / RpcProtocolV2, MOSN's xprotocol/bolt and
 * xprotocol/boltv2), as XProtocolCodecs.
 *
 * Why hand-written framing rather than a library (sofa-bolt-node): on the proxy path a frame is read,
 * routed on its header map and sent on with only its request id changed. sofa-bolt-node decodes the
 * hessian content into objects and re-serializes it, which a proxy must not do (the content is opaque
 * to it) and which costs far more than the few field reads a fixed 20/22/24-byte head needs; it also
 * throws on bytes it does not like, where a proxy must answer the peer with bolt's codec-exception
 * status and close only that connection. So the fixed part is read with DataView-free Buffer reads,
 * the frame is copied once, and an unchanged frame is forwarded from that copy with its id patched.
 *
 * Bad input never throws: decode() answers an 'error' result with the request id when the fixed part
 * was readable (the stream layer then answers CODEC_EXCEPTION before it closes).
 */
import { crc32 } from 'node:zlib';
import { RingsideError } from '../../common/errors.js';
import type { DetectResult } from '../../types/protocol.js';
import {
  XCommand,
  type XDecodeLimits,
  type XDecodeResult,
  type XFrame,
  type XProtocolCodec,
  type XRequest,
  type XResponse,
} from '../../types/xprotocol.js';
import { XHeaders } from '../xprotocol/headers.js';
import {
  BOLT,
  BOLTV2,
  BoltStatus,
  CMD_GOAWAY,
  CMD_HEARTBEAT,
  CMD_REQUEST,
  CMD_RESPONSE,
  CODEC_HESSIAN2,
  HEADER_METHOD,
  HEADER_SERVICE,
  NULL_LENGTH,
  PROTO_V1,
  PROTO_V2,
  SOFA_REQUEST_CLASS,
  SWITCH_CRC,
  TYPE_ONEWAY,
  TYPE_REQUEST,
  TYPE_RESPONSE,
  V1_REQUEST_FIXED,
  V1_RESPONSE_FIXED,
  V2_REQUEST_FIXED,
  V2_RESPONSE_FIXED,
  VERSION,
} from './constants.js';
import { BoltRequest, BoltResponse } from './frames.js';
import { boltHttpStatusOf, boltStatusOfError, boltStatusOfHttp } from './status.js';

const EMPTY = Buffer.alloc(0);

/** Field offsets after the proto byte (v2 has ver1 first, and a switch byte before timeout/status). */
interface Layout {
  readonly typeAt: number;
  readonly cmdAt: number;
  readonly ver2At: number;
  readonly idAt: number;
  readonly codecAt: number;
  /** -1 on v1. */
  readonly switchAt: number;
  /** timeout (request, int32) or status (response, u16). */
  readonly varAt: number;
  readonly requestFixed: number;
  readonly responseFixed: number;
}

const V1: Layout = { typeAt: 1, cmdAt: 2, ver2At: 4, idAt: 5, codecAt: 9, switchAt: -1, varAt: 10, requestFixed: V1_REQUEST_FIXED, responseFixed: V1_RESPONSE_FIXED };
const V2: Layout = { typeAt: 2, cmdAt: 3, ver2At: 5, idAt: 6, codecAt: 10, switchAt: 11, varAt: 12, requestFixed: V2_REQUEST_FIXED, responseFixed: V2_RESPONSE_FIXED };

function codecError(message: string, requestId: number | undefined, request: boolean): XDecodeResult {
  return { kind: 'error', error: new RingsideError('BAD_REQUEST', 'downstream', `bolt: ${message}`, { retryable: false }), requestId, request };
}

/**
 * Reads a SOFARPC header map (u32 length + bytes, key then value, repeated). A length that overruns
 * the section is an error; 0xFFFFFFFF is a null value, kept as an empty string.
 */
function decodeHeaderMap(buf: Buffer, start: number, end: number): XHeaders | string {
  const raw: string[] = [];
  let i = start;
  while (i < end) {
    for (let part = 0; part < 2; part++) {
      if (i + 4 > end) return `header map overruns its frame at byte ${i - start}`;
      const len = buf.readUInt32BE(i);
      i += 4;
      if (len === NULL_LENGTH) {
        raw.push('');
        continue;
      }
      if (len > end - i) return `header map overruns its frame at byte ${i - start} (length ${len})`;
      raw.push(buf.toString('utf8', i, i + len));
      i += len;
    }
  }
  return new XHeaders(raw);
}

function headerMapBytes(headers: XHeaders): number {
  const raw = headers.raw;
  let n = 0;
  for (let i = 0; i < raw.length; i++) n += 4 + Buffer.byteLength(raw[i]!);
  return n;
}

function writeHeaderMap(headers: XHeaders, out: Buffer, at: number): number {
  const raw = headers.raw;
  for (let i = 0; i < raw.length; i++) {
    const n = out.write(raw[i]!, at + 4, 'utf8');
    out.writeUInt32BE(n, at);
    at += 4 + n;
  }
  return at;
}

class BoltCodec implements XProtocolCodec {
  readonly name: string;
  readonly maxRequestId = 0xffffffff;
  /** The proto byte frames made here carry. */
  readonly #proto: number;

  constructor(name: string, proto: number) {
    this.name = name;
    this.#proto = proto;
  }

  detect(first: Buffer): DetectResult {
    if (first.length === 0) return 'need-more';
    const p = first[0];
    // boltv2 serves v1 frames too (as MOSN's boltv2 does); bolt serves v1 only.
    if (p === this.#proto || (this.#proto === PROTO_V2 && p === PROTO_V1)) {
      if (first.length < 2) return 'need-more';
      const type = p === PROTO_V1 ? first[1] : first.length < 3 ? -1 : first[2];
      if (type === -1) return 'need-more';
      return type === TYPE_REQUEST || type === TYPE_ONEWAY || type === TYPE_RESPONSE ? 'match' : 'no';
    }
    return 'no';
  }

  decode(buf: Buffer, limits: XDecodeLimits): XDecodeResult {
    if (buf.length < 1) return { kind: 'need', bytes: 0 };
    const proto = buf[0]!;
    let L: Layout;
    if (proto === PROTO_V1) L = V1;
    else if (proto === PROTO_V2 && this.#proto === PROTO_V2) L = V2;
    else return codecError(`unknown protocol code 0x${proto.toString(16).padStart(2, '0')}`, undefined, false);
    if (buf.length <= L.typeAt) return { kind: 'need', bytes: 0 };
    const type = buf[L.typeAt]!;
    if (type !== TYPE_REQUEST && type !== TYPE_ONEWAY && type !== TYPE_RESPONSE) return codecError(`unknown command type ${type}`, undefined, false);
    const isRequest = type !== TYPE_RESPONSE;
    const fixed = isRequest ? L.requestFixed : L.responseFixed;
    if (buf.length < fixed) return { kind: 'need', bytes: 0 };
    const cmdCode = buf.readUInt16BE(L.cmdAt);
    const requestId = buf.readUInt32BE(L.idAt);
    const lensAt = isRequest ? L.varAt + 4 : L.varAt + 2;
    const classLen = buf.readUInt16BE(lensAt);
    const headerLen = buf.readUInt16BE(lensAt + 2);
    const contentLen = buf.readUInt32BE(lensAt + 4);
    const switchCode = L.switchAt === -1 ? 0 : buf[L.switchAt]!;
    // sofa-bolt-node appends the CRC whenever the switch bit is on; so does Ringside's reading.
    const crcLen = L.switchAt !== -1 && (switchCode & SWITCH_CRC) !== 0 ? 4 : 0;
    if (classLen + headerLen > limits.maxHeaderBytes) {
      return codecError(`class name and header map of ${classLen + headerLen} bytes pass the limit of ${limits.maxHeaderBytes}`, requestId, isRequest);
    }
    if (contentLen > limits.maxContentBytes) {
      return codecError(`content of ${contentLen} bytes passes the limit of ${limits.maxContentBytes}`, requestId, isRequest);
    }
    if (isRequest ? cmdCode !== CMD_REQUEST && cmdCode !== CMD_HEARTBEAT && cmdCode !== CMD_GOAWAY : cmdCode !== CMD_RESPONSE && cmdCode !== CMD_HEARTBEAT) {
      return codecError(`unknown command code ${cmdCode}`, requestId, isRequest);
    }
    const total = fixed + classLen + headerLen + contentLen + crcLen;
    if (buf.length < total) return { kind: 'need', bytes: total };
    if (crcLen > 0) {
      const want = buf.readUInt32BE(total - 4);
      if ((crc32(buf.subarray(0, total - 4)) >>> 0) !== want) return codecError('CRC32 check failed', requestId, isRequest);
    }
    // One copy of the frame: the read buffer is reused after this call.
    const raw = Buffer.allocUnsafe(total);
    buf.copy(raw, 0, 0, total);
    const classAt = fixed;
    const headerAt = classAt + classLen;
    const contentAt = headerAt + headerLen;
    const className = classLen === 0 ? '' : raw.toString('latin1', classAt, headerAt);
    const headers = headerLen === 0 ? new XHeaders() : decodeHeaderMap(raw, headerAt, contentAt);
    if (typeof headers === 'string') return codecError(headers, requestId, isRequest);
    const content = contentLen === 0 ? EMPTY : raw.subarray(contentAt, contentAt + contentLen);
    const layout = { raw, content };
    const ver1 = L === V2 ? buf[1]! : 0;
    let frame: XFrame;
    if (isRequest) {
      const command =
        cmdCode === CMD_HEARTBEAT ? XCommand.Heartbeat : cmdCode === CMD_GOAWAY ? XCommand.GoAway : type === TYPE_ONEWAY ? XCommand.Oneway : XCommand.Request;
      const timeout = buf.readInt32BE(L.varAt);
      frame = new BoltRequest(this.name, proto, ver1, switchCode, requestId, command, cmdCode, buf[L.ver2At]!, buf[L.codecAt]!, timeout, className, headers, content, layout);
    } else {
      const status = buf.readUInt16BE(L.varAt);
      frame = new BoltResponse(this.name, proto, ver1, switchCode, requestId, cmdCode, buf[L.ver2At]!, buf[L.codecAt]!, status, className, headers, content, layout);
    }
    return { kind: 'frame', frame, bytes: total };
  }

  encode(frame: XFrame): Buffer {
    const f = frame as BoltRequest | BoltResponse;
    const L = f.proto === PROTO_V2 ? V2 : V1;
    const crc = L === V2 && (f.switchCode & SWITCH_CRC) !== 0;
    const layout = f.layout;
    if (layout !== null && !f.headers.dirty && f.content === layout.content) {
      // Unchanged since it was read: send the received bytes with this hop's request id.
      const raw = layout.raw;
      raw.writeUInt32BE(f.requestId >>> 0, L.idAt);
      if (f.kind === 'response') raw.writeUInt16BE(f.status, L.varAt);
      if (crc) raw.writeUInt32BE(crc32(raw.subarray(0, raw.length - 4)) >>> 0, raw.length - 4);
      return raw;
    }
    const isRequest = f.kind === 'request';
    const fixed = isRequest ? L.requestFixed : L.responseFixed;
    const classLen = Buffer.byteLength(f.className, 'latin1');
    const headerLen = headerMapBytes(f.headers);
    const content = f.content;
    const total = fixed + classLen + headerLen + content.length + (crc ? 4 : 0);
    const out = Buffer.allocUnsafe(total);
    out[0] = L === V2 ? PROTO_V2 : PROTO_V1;
    if (L === V2) {
      out[1] = f.ver1 || VERSION;
      out[L.switchAt] = f.switchCode;
    }
    out[L.typeAt] = isRequest ? ((f as BoltRequest).command === XCommand.Oneway ? TYPE_ONEWAY : TYPE_REQUEST) : TYPE_RESPONSE;
    out.writeUInt16BE(f.cmdCode, L.cmdAt);
    out[L.ver2At] = f.ver2;
    out.writeUInt32BE(f.requestId >>> 0, L.idAt);
    out[L.codecAt] = f.codec;
    let at: number;
    if (isRequest) {
      out.writeInt32BE((f as BoltRequest).timeout, L.varAt);
      at = L.varAt + 4;
    } else {
      out.writeUInt16BE((f as BoltResponse).status, L.varAt);
      at = L.varAt + 2;
    }
    out.writeUInt16BE(classLen, at);
    out.writeUInt16BE(headerLen, at + 2);
    out.writeUInt32BE(content.length, at + 4);
    at = fixed;
    at += out.write(f.className, at, 'latin1');
    at = writeHeaderMap(f.headers, out, at);
    at += content.copy(out, at);
    if (crc) out.writeUInt32BE(crc32(out.subarray(0, at)) >>> 0, at);
    return out;
  }

  heartbeat(requestId: number): XRequest {
    const p = this.#proto;
    return new BoltRequest(this.name, p, p === PROTO_V2 ? VERSION : 0, 0, requestId, XCommand.Heartbeat, CMD_HEARTBEAT, VERSION, CODEC_HESSIAN2, -1, '', new XHeaders(), EMPTY, null);
  }

  heartbeatReply(request: XRequest): XResponse {
    const r = request as BoltRequest;
    return new BoltResponse(this.name, r.proto, r.ver1, r.switchCode, r.requestId, CMD_HEARTBEAT, VERSION, r.codec, BoltStatus.SUCCESS, '', new XHeaders(), EMPTY, null);
  }

  goAway(): XRequest {
    const p = this.#proto;
    return new BoltRequest(this.name, p, p === PROTO_V2 ? VERSION : 0, 0, 0, XCommand.GoAway, CMD_GOAWAY, VERSION, CODEC_HESSIAN2, 0, '', new XHeaders(), EMPTY, null);
  }

  reply(request: XRequest | null, status: number): XResponse {
    const r = request as BoltRequest | null;
    const p = r?.proto ?? this.#proto;
    return new BoltResponse(
      this.name,
      p,
      r?.ver1 ?? (p === PROTO_V2 ? VERSION : 0),
      r?.switchCode ?? 0,
      r?.requestId ?? 0,
      CMD_RESPONSE,
      VERSION,
      r?.codec ?? CODEC_HESSIAN2,
      status,
      '',
      new XHeaders(),
      EMPTY,
      null,
    );
  }

  statusOfError = boltStatusOfError;
  statusOfHttp = boltStatusOfHttp;

  httpStatusOf(response: XResponse): number {
    return boltHttpStatusOf(response.status);
  }

  unprocessed(response: XResponse): boolean {
    // The server refused before running the call: resending it elsewhere cannot run it twice.
    return response.status === BoltStatus.SERVER_THREADPOOL_BUSY || response.status === BoltStatus.NO_PROCESSOR;
  }

  newRequest(service: string, method: string, headers: Record<string, string>, content: Buffer, timeoutMs: number): XRequest {
    const h = XHeaders.from({ [HEADER_SERVICE]: service, ...(method === '' ? {} : { [HEADER_METHOD]: method }), ...headers });
    const p = this.#proto;
    const req = new BoltRequest(this.name, p, p === PROTO_V2 ? VERSION : 0, 0, 0, XCommand.Request, CMD_REQUEST, VERSION, CODEC_HESSIAN2, timeoutMs, SOFA_REQUEST_CLASS, new XHeaders(h.raw), content, null);
    return req;
  }
}

/** bolt: protocol code 0x01 only. */
export const boltCodec: XProtocolCodec = new BoltCodec(BOLT, PROTO_V1);
/** boltv2: protocol code 0x02, and 0x01 frames on the same connection (as MOSN's boltv2). */
export const boltv2Codec: XProtocolCodec = new BoltCodec(BOLTV2, PROTO_V2);

/** What a runtime channel puts in a request it makes itself (Layotto's ToFrame). */
export interface BoltRequestInit {
  readonly className: string;
  /** The header map, in order. */
  readonly headers: Readonly<Record<string, string>>;
  readonly content: Buffer;
  /** The timeout field in ms (0: none). */
  readonly timeoutMs: number;
  readonly oneway: boolean;
}

/** A request in `codec`'s own version (bolt: v1, boltv2: v2, without CRC), id 0 until it is sent. */
export function boltRequest(codec: XProtocolCodec, init: BoltRequestInit): XRequest {
  const p = codec.name === BOLTV2 ? PROTO_V2 : PROTO_V1;
  const raw: string[] = [];
  for (const k in init.headers) raw.push(k, init.headers[k]!);
  const timeout = Number.isFinite(init.timeoutMs) ? Math.min(Math.max(0, Math.round(init.timeoutMs)), 0x7fffffff) : 0;
  const command = init.oneway ? XCommand.Oneway : XCommand.Request;
  return new BoltRequest(codec.name, p, p === PROTO_V2 ? VERSION : 0, 0, 0, command, CMD_REQUEST, VERSION, CODEC_HESSIAN2, timeout, init.className, new XHeaders(raw), init.content, null);
}

/** A bolt v1 SUCCESS response frame around `content` (id 0): what SOFARPC's decoders read whole. */
export function boltResponseBytes(className: string, content: Buffer): Buffer {
  return boltCodec.encode(new BoltResponse(BOLT, PROTO_V1, 0, 0, 0, CMD_RESPONSE, VERSION, CODEC_HESSIAN2, BoltStatus.SUCCESS, className, new XHeaders(), content, null));
}
