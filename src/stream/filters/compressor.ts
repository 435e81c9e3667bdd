/**
 * `compressor` stream filter: gzip or brotli compression of response bodies (and, when configured,
 * request bodies), with the semantics of Envoy's compressor filter:
 *
 *   { "compressor_library": { "name": "gzip", "typed_config": { "compression_level": 6 } },   // or "brotli" { "quality": 3 }
 *     "response_direction_config": { "common_config": { "enabled": true, "min_content_length": 30,
 *                                    "content_type": ["application/json", …] },
 *                                    "disable_on_etag_header": false, "remove_accept_encoding_header": false },
 *     "request_direction_config": { "common_config": { "enabled": false, … } },
 *     "offload_min_bytes": 65536, "max_body_bytes": 8388608 }
 *
 * A response is compressed when the request's Accept-Encoding accepts the library's encoding
 * (q > 0, or `*`), the response has a body (not HEAD, 1xx, 204, 304), no Content-Encoding yet, no
 * `Cache-Control: no-transform`, a listed content type, and a Content-Length between
 * min_content_length and max_body_bytes. The answer then carries Content-Encoding, `Vary:
 * Accept-Encoding`, a weakened ETag and no Content-Length (it goes out chunked). A request body is
 * compressed under the same rules toward the upstream (without Accept-Encoding negotiation).
 *
 * Differences from Envoy, on purpose: the body is compressed whole once it has arrived, so a body
 * must announce its length (a chunked body of unknown length passes through uncompressed; holding it
 * could need unbounded memory); and bodies of at least offload_min_bytes are compressed on the
 * worker's piscina pool (ringside.offload.threads) so one large body does not stall the data-plane
 * loop, while smaller ones are compressed inline, where a pool round trip would cost more than the
 * work.
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { FilterStatus } from '../../types/network.js';
import type { HeaderMap, RequestFrame, ResponseFrame } from '../../types/protocol.js';
import type { OffloadRunner } from '../../types/offload.js';
import type {
  StreamFilterChainFactory,
  StreamFilterContext,
  StreamFilterFactory,
  StreamReceiverFilter,
  StreamReceiverFilterCallbacks,
  StreamSenderFilter,
  StreamSenderFilterCallbacks,
} from '../../types/stream.js';
import { counter } from '../../common/counters.js';
import { logger } from '../../common/log.js';
import { objectAt, onlyKeys, StreamFilterConfigError } from './config.js';

const log = logger('compressor');
const compressedInline = counter('compressor.compressed_inline');
const compressedOffload = counter('compressor.compressed_offload');
const notCompressed = counter('compressor.not_compressed');

/** Envoy's default content types for the compressor. */
const DEFAULT_CONTENT_TYPES = [
  'text/html',
  'text/plain',
  'text/css',
  'application/javascript',
  'application/x-javascript',
  'text/javascript',
  'text/x-javascript',
  'text/ecmascript',
  'text/js',
  'text/jscript',
  'text/x-js',
  'application/ecmascript',
  'application/x-json',
  'application/xml',
  'application/json',
  'image/svg+xml',
  'text/xml',
  'application/xhtml+xml',
];

export type CompressorAlgorithm = 'gzip' | 'brotli';

interface DirectionConfig {
  enabled: boolean;
  minContentLength: number;
  contentTypes: readonly string[];
}

export interface CompressorConfig {
  algorithm: CompressorAlgorithm;
  /** gzip level 1..9, or brotli quality 0..11. */
  level: number;
  response: DirectionConfig & { disableOnEtag: boolean; removeAcceptEncoding: boolean };
  request: DirectionConfig;
  offloadMinBytes: number;
  maxBodyBytes: number;
}

function intAt(value: unknown, path: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new StreamFilterConfigError(path, `expected an integer from ${min} to ${max}`);
  }
  return value;
}

function boolAt(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  // Envoy writes runtime-feature flags as { "default_value": bool }; a plain bool is accepted too.
  if (typeof value === 'object' && value !== null) {
    const o = objectAt(value, path);
    onlyKeys(o, ['default_value', 'runtime_key'], path);
    return boolAt(o.default_value, `${path}.default_value`, fallback);
  }
  if (typeof value !== 'boolean') throw new StreamFilterConfigError(path, 'expected true or false');
  return value;
}

function directionAt(value: unknown, path: string, enabledByDefault: boolean): DirectionConfig & { raw: Record<string, unknown> } {
  const raw = value === undefined ? {} : objectAt(value, path);
  const common = raw.common_config === undefined ? {} : objectAt(raw.common_config, `${path}.common_config`);
  const cpath = `${path}.common_config`;
  onlyKeys(common, ['enabled', 'min_content_length', 'content_type'], cpath);
  let contentTypes = DEFAULT_CONTENT_TYPES;
  if (common.content_type !== undefined) {
    const list = common.content_type;
    if (!Array.isArray(list) || list.some((t) => typeof t !== 'string' || t === '')) {
      throw new StreamFilterConfigError(`${cpath}.content_type`, 'expected a list of media types');
    }
    contentTypes = list.map((t: string) => t.toLowerCase());
  }
  return {
    raw,
    // A direction section that is present is on unless it says otherwise (Envoy's request side).
    enabled: boolAt(common.enabled, `${cpath}.enabled`, value !== undefined || enabledByDefault),
    minContentLength: intAt(common.min_content_length, `${cpath}.min_content_length`, 0, 2 ** 31 - 1, 30),
    contentTypes,
  };
}

export function parseCompressorConfig(config: unknown, path: string): CompressorConfig {
  const obj = objectAt(config, path);
  onlyKeys(obj, ['compressor_library', 'response_direction_config', 'request_direction_config', 'offload_min_bytes', 'max_body_bytes'], path);
  if (obj.compressor_library === undefined) throw new StreamFilterConfigError(`${path}.compressor_library`, 'required');
  const lib = objectAt(obj.compressor_library, `${path}.compressor_library`);
  onlyKeys(lib, ['name', 'typed_config'], `${path}.compressor_library`);
  const name = lib.name;
  if (name !== 'gzip' && name !== 'brotli') throw new StreamFilterConfigError(`${path}.compressor_library.name`, 'expected "gzip" or "brotli"');
  const tpath = `${path}.compressor_library.typed_config`;
  const typed = lib.typed_config === undefined ? {} : objectAt(lib.typed_config, tpath);
  const levelKey = name === 'gzip' ? 'compression_level' : 'quality';
  onlyKeys(typed, ['@type', levelKey], tpath);
  const level = name === 'gzip' ? intAt(typed.compression_level, `${tpath}.compression_level`, 1, 9, 6) : intAt(typed.quality, `${tpath}.quality`, 0, 11, 3);
  const rpath = `${path}.response_direction_config`;
  const response = directionAt(obj.response_direction_config, rpath, true);
  onlyKeys(response.raw, ['common_config', 'disable_on_etag_header', 'remove_accept_encoding_header'], rpath);
  const qpath = `${path}.request_direction_config`;
  const request = directionAt(obj.request_direction_config, qpath, false);
  onlyKeys(request.raw, ['common_config'], qpath);
  return {
    algorithm: name,
    level,
    response: {
      enabled: response.enabled,
      minContentLength: response.minContentLength,
      contentTypes: response.contentTypes,
      disableOnEtag: boolAt(response.raw.disable_on_etag_header, `${rpath}.disable_on_etag_header`, false),
      removeAcceptEncoding: boolAt(response.raw.remove_accept_encoding_header, `${rpath}.remove_accept_encoding_header`, false),
    },
    request: { enabled: request.enabled, minContentLength: request.minContentLength, contentTypes: request.contentTypes },
    offloadMinBytes: intAt(obj.offload_min_bytes, `${path}.offload_min_bytes`, 0, 2 ** 31 - 1, 64 * 1024),
    maxBodyBytes: intAt(obj.max_body_bytes, `${path}.max_body_bytes`, 1, 2 ** 31 - 1, 8 * 1024 * 1024),
  };
}

const TOKEN: Record<CompressorAlgorithm, string> = { gzip: 'gzip', brotli: 'br' };

/** Whether an Accept-Encoding value accepts `token` (RFC 9110 §12.5.3: q=0 refuses; `*` matches). */
export function acceptsEncoding(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  let star: boolean | undefined;
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.trim().split(';');
    const name = rawName!.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m !== null) q = Number(m[1]);
    }
    if (name === token) return q > 0;
    if (name === '*') star = q > 0;
  }
  return star === true;
}

function contentTypeListed(value: string | undefined, list: readonly string[]): boolean {
  if (value === undefined) return false;
  const media = value.split(';')[0]!.trim().toLowerCase();
  return list.includes(media);
}

/** Decides from a head whether its body is compressed; sets the headers when it is. */
function eligible(headers: HeaderMap, dir: DirectionConfig, maxBodyBytes: number): boolean {
  if (!dir.enabled) return false;
  if (headers.get('content-encoding') !== undefined) return false;
  if (/(^|,)\s*no-transform\s*(,|$)/i.test(headers.get('cache-control') ?? '')) return false;
  if (!contentTypeListed(headers.get('content-type'), dir.contentTypes)) return false;
  const length = Number(headers.get('content-length'));
  if (!Number.isSafeInteger(length)) return false; // unknown length: passes through (see the header)
  return length >= dir.minContentLength && length <= maxBodyBytes && length > 0;
}

function compressInline(cfg: CompressorConfig, data: Buffer): Buffer {
  return cfg.algorithm === 'gzip'
    ? gzipSync(data, { level: cfg.level })
    : brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: cfg.level, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } });
}

/** Gathers one direction's body, compresses it, and hands the result on as the last piece. */
class BodyCompressor {
  readonly #cfg: CompressorConfig;
  readonly #offload: OffloadRunner | undefined;
  #pieces: Buffer[] = [];
  #bytes = 0;
  active = false;
  #destroyed = false;

  constructor(cfg: CompressorConfig, offload: OffloadRunner | undefined) {
    this.#cfg = cfg;
    this.#offload = offload;
  }

  /** Marks the head: encoding set, length dropped (the compressed size is not known yet). */
  start(headers: HeaderMap, isResponse: boolean): void {
    this.active = true;
    headers.set('content-encoding', TOKEN[this.#cfg.algorithm]);
    headers.remove('content-length');
    if (isResponse) {
      const vary = headers.get('vary');
      if (vary === undefined) headers.set('vary', 'Accept-Encoding');
      else if (!/accept-encoding/i.test(vary)) headers.set('vary', `${vary}, Accept-Encoding`);
      const etag = headers.get('etag');
      // The bytes change, so a strong validator would lie; Envoy weakens it the same way.
      if (etag !== undefined && !etag.startsWith('W/')) headers.set('etag', `W/${etag}`);
    }
  }

  /**
   * One body piece. Not the last: kept (copied) and swallowed. The last: the whole body is
   * compressed inline (Continue) or on the pool (Stop, then replace + resume).
   */
  data(chunk: Buffer, endOfStream: boolean, swallow: () => boolean, replace: (b: Buffer) => boolean, resume: () => void): FilterStatus {
    if (!endOfStream) {
      if (chunk.length > 0) {
        this.#pieces.push(Buffer.from(chunk));
        this.#bytes += chunk.length;
      }
      swallow();
      return FilterStatus.Continue;
    }
    const body = this.#pieces.length === 0 ? chunk : Buffer.concat(chunk.length === 0 ? this.#pieces : [...this.#pieces, chunk]);
    this.#pieces = [];
    if (body.length < this.#cfg.offloadMinBytes || this.#offload === undefined) {
      compressedInline.inc();
      replace(compressInline(this.#cfg, body));
      return FilterStatus.Continue;
    }
    compressedOffload.inc();
    const own = body === chunk ? Buffer.from(chunk) : body;
    const task = this.#cfg.algorithm === 'gzip' ? ({ kind: 'gzip', data: own, level: this.#cfg.level } as const) : ({ kind: 'brotli', data: own, quality: this.#cfg.level } as const);
    this.#offload.run(task).then(
      (out) => {
        if (this.#destroyed) return;
        replace(Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.byteLength));
        resume();
      },
      (err: unknown) => {
        if (this.#destroyed) return;
        // The head already announced the encoding: compress here rather than send a lie.
        log.warn('offloaded compression failed; compressing inline', err);
        replace(compressInline(this.#cfg, own));
        resume();
      },
    );
    return FilterStatus.Stop;
  }

  destroy(): void {
    this.#destroyed = true;
    this.#pieces = [];
  }
}

class ResponseCompressor implements StreamSenderFilter {
  readonly #cfg: CompressorConfig;
  readonly #body: BodyCompressor;
  #cb: StreamSenderFilterCallbacks | null = null;
  /** The request's Accept-Encoding, taken before remove_accept_encoding_header strips it. */
  acceptEncoding: string | undefined | null = null;

  constructor(cfg: CompressorConfig, offload: OffloadRunner | undefined) {
    this.#cfg = cfg;
    this.#body = new BodyCompressor(cfg, offload);
  }

  setSenderCallbacks(callbacks: StreamSenderFilterCallbacks): void {
    this.#cb = callbacks;
  }

  onSendHeaders(response: ResponseFrame, endOfStream: boolean): FilterStatus {
    const request = this.#cb?.request ?? null;
    const status = response.status;
    const ok =
      !endOfStream &&
      request !== null &&
      request.method !== 'HEAD' &&
      status >= 200 &&
      status !== 204 &&
      status !== 304 &&
      acceptsEncoding(this.acceptEncoding === null ? request.headers.get('accept-encoding') : this.acceptEncoding, TOKEN[this.#cfg.algorithm]) &&
      !(this.#cfg.response.disableOnEtag && response.headers.get('etag') !== undefined) &&
      eligible(response.headers, this.#cfg.response, this.#cfg.maxBodyBytes);
    if (ok) this.#body.start(response.headers, true);
    else notCompressed.inc();
    return FilterStatus.Continue;
  }

  onSendData(chunk: Buffer, endOfStream: boolean): FilterStatus {
    if (!this.#body.active) return FilterStatus.Continue;
    const cb = this.#cb!;
    return this.#body.data(chunk, endOfStream, () => cb.swallowEncodingData(), (b) => cb.replaceEncodingData(b), () => cb.continueEncoding());
  }

  onDestroy(): void {
    this.#body.destroy();
  }
}

class RequestCompressor implements StreamReceiverFilter {
  readonly #cfg: CompressorConfig;
  readonly #body: BodyCompressor;
  #cb: StreamReceiverFilterCallbacks | null = null;

  constructor(cfg: CompressorConfig, offload: OffloadRunner | undefined) {
    this.#cfg = cfg;
    this.#body = new BodyCompressor(cfg, offload);
  }

  setReceiverCallbacks(callbacks: StreamReceiverFilterCallbacks): void {
    this.#cb = callbacks;
  }

  onReceiveHeaders(request: RequestFrame, endOfStream: boolean): FilterStatus {
    if (!endOfStream && eligible(request.headers, this.#cfg.request, this.#cfg.maxBodyBytes)) this.#body.start(request.headers, false);
    return FilterStatus.Continue;
  }

  onReceiveData(chunk: Buffer, endOfStream: boolean): FilterStatus {
    if (!this.#body.active) return FilterStatus.Continue;
    const cb = this.#cb!;
    return this.#body.data(chunk, endOfStream, () => cb.swallowDecodingData(), (b) => cb.replaceDecodingData(b), () => cb.continueDecoding());
  }

  onDestroy(): void {
    this.#body.destroy();
  }
}

export const compressorFilterFactory: StreamFilterFactory = {
  create(config: unknown, path: string, ctx?: StreamFilterContext): StreamFilterChainFactory {
    const cfg = parseCompressorConfig(config, path);
    const offload = ctx?.offload;
    return (_stream, chain) => {
      if (cfg.response.enabled) {
        const response = new ResponseCompressor(cfg, offload);
        chain.addSenderFilter(response);
        // Envoy's remove_accept_encoding_header: the upstream then never compresses itself.
        if (cfg.response.removeAcceptEncoding) {
          chain.addReceiverFilter({
            setReceiverCallbacks() {},
            onReceiveHeaders(request) {
              response.acceptEncoding = request.headers.get('accept-encoding');
              request.headers.remove('accept-encoding');
              return FilterStatus.Continue;
            },
          });
        }
      }
      if (cfg.request.enabled) chain.addReceiverFilter(new RequestCompressor(cfg, offload));
    };
  },
};
