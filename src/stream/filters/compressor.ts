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
 * Differences from Envoy, on purpose: the body is compressed whole once it has arrived — at its
 * last piece, or at its trailers, which then follow the compressed body as in Envoy — so a body must
 * announce its length (a chunked body of unknown length passes through uncompressed; holding it
 * could need unbounded memory); and bodies of at least offload_min_bytes are compressed on the
 * worker's piscina pool (ringside.offload.threads) so one large body does not stall the data-plane
 * loop, while smaller ones are compressed inline, where a pool round trip would cost more than the
 * work.
 */
import { z } from 'zod';
import { FilterStatus } from '../../types/network.js';
import type { ConfigKit, ConfigSpec } from '../../types/extension.js';
import type { HeaderMap, RequestFrame, ResponseFrame } from '../../types/protocol.js';
import type { OffloadRunner } from '../../types/offload.js';
import {
  StreamResetReason,
  type StreamFilterChainFactory,
  type StreamFilterContext,
  type StreamFilterFactory,
  type StreamReceiverFilterCallbacks,
  type StreamSenderFilterCallbacks,
} from '../../types/stream.js';
import { counter } from '../../common/counters.js';
import { logger } from '../../common/log.js';
import { runBodyCoding, type BodyCodingTask } from './codings.js';
import { RequestBodyFilter, ResponseBodyFilter, requestBodyIo, responseBodyIo, type BodyIo } from './body-io.js';
import { featureFlag, intIn, parseStreamFilterConfig, RUNTIME_KEY_IGNORED, typeUrlIssue } from './config.js';

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

/** Envoy's gzip CompressionLevel names, besides the plain numbers 1..9. */
const GZIP_LEVEL_NAMES: Readonly<Record<string, number>> = {
  BEST_SPEED: 1,
  DEFAULT_COMPRESSION: 6,
  BEST_COMPRESSION: 9,
  ...Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`COMPRESSION_LEVEL_${i + 1}`, i + 1])),
};

const MAX_INT32 = 2 ** 31 - 1;

function compressorSchema(k: ConfigKit) {
  const gzipLevel = z.union([
    intIn(1, 9),
    z.string().transform((name, ctx) => {
      const level = GZIP_LEVEL_NAMES[name];
      if (level !== undefined) return level;
      ctx.addIssue({ code: 'custom', message: `expected 1-9 or one of ${Object.keys(GZIP_LEVEL_NAMES).join(', ')}`, input: name });
      return z.NEVER;
    }),
  ]);
  const library = k
    .obj({
      name: z.enum(['gzip', 'brotli'], { error: 'expected "gzip" or "brotli"' }),
      typed_config: k.obj({ '@type': z.string().optional(), compression_level: gzipLevel.optional(), quality: intIn(0, 11).optional() }).prefault({}),
    })
    .superRefine((l, ctx) => {
      const badType = typeUrlIssue(l.name, 'compressor', l.typed_config['@type']);
      if (badType !== undefined) ctx.addIssue({ code: 'custom', message: badType, path: ['typed_config', '@type'], input: l.typed_config['@type'] });
      const foreign = l.name === 'gzip' ? 'quality' : 'compression_level';
      if (l.typed_config[foreign] !== undefined) {
        ctx.addIssue({ code: 'custom', message: `${foreign} is a ${l.name === 'gzip' ? 'brotli' : 'gzip'} setting; ${l.name} takes ${l.name === 'gzip' ? 'compression_level (1-9)' : 'quality (0-11)'}`, path: ['typed_config', foreign], input: l.typed_config[foreign] });
      }
    });
  const common = k
    .obj({
      enabled: featureFlag(k).default(true),
      min_content_length: intIn(0, MAX_INT32).default(30),
      content_type: z
        .array(z.string().min(1))
        .transform((list) => list.map((t) => t.toLowerCase()))
        .default(DEFAULT_CONTENT_TYPES),
    })
    .prefault({});
  return k
    .obj({
      compressor_library: library,
      response_direction_config: k
        .obj({ common_config: common, disable_on_etag_header: z.boolean().default(false), remove_accept_encoding_header: z.boolean().default(false) })
        .prefault({}),
      /** Absent: requests are never compressed (Envoy's default); present: on unless it says otherwise. */
      request_direction_config: k.obj({ common_config: common }).optional(),
      offload_min_bytes: intIn(0, MAX_INT32).default(64 * 1024),
      max_body_bytes: intIn(1, MAX_INT32).default(8 * 1024 * 1024),
    })
    .transform((c) => ({
      algorithm: c.compressor_library.name,
      /** gzip level 1..9, or brotli quality 0..11 (Envoy's defaults: 6 and 3). */
      level: c.compressor_library.name === 'gzip' ? (c.compressor_library.typed_config.compression_level ?? 6) : (c.compressor_library.typed_config.quality ?? 3),
      response: c.response_direction_config,
      request: c.request_direction_config,
      offloadMinBytes: c.offload_min_bytes,
      maxBodyBytes: c.max_body_bytes,
    }));
}

export type CompressorConfig = z.output<ReturnType<typeof compressorSchema>>;
export type CompressorAlgorithm = CompressorConfig['algorithm'];

export const compressorFilterSpec: ConfigSpec<CompressorConfig> = {
  schema: compressorSchema,
  ignored: {
    'compressor_library.typed_config': Object.fromEntries(
      ['memory_level', 'window_bits', 'compression_strategy', 'chunk_size', 'window_size', 'input_block_bits', 'encoder_mode', 'disable_literal_context_modeling'].map((key) => [
        key,
        { reason: "ignored: Node's zlib defaults apply; only compression_level (gzip) and quality (brotli) are tuned" },
      ]),
    ),
    'response_direction_config.common_config.enabled': RUNTIME_KEY_IGNORED,
    'request_direction_config.common_config.enabled': RUNTIME_KEY_IGNORED,
  },
};

/** When one direction's body is compressed, compiled once per configured entry. */
interface DirectionRules {
  readonly minContentLength: number;
  readonly contentTypes: ReadonlySet<string>;
}

function rulesOf(common: { min_content_length: number; content_type: readonly string[] }): DirectionRules {
  return { minContentLength: common.min_content_length, contentTypes: new Set(common.content_type) };
}

/** The codec side of one configured entry: which library, how hard, where the work runs. */
interface Coding {
  readonly algorithm: CompressorAlgorithm;
  readonly level: number;
  readonly offloadMinBytes: number;
  readonly maxBodyBytes: number;
}

/** The Content-Encoding token of each library. */
export const TOKEN: Record<CompressorAlgorithm, string> = { gzip: 'gzip', brotli: 'br' };

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

/** Whether a Cache-Control value forbids changing the body (RFC 9111 §5.2.2.6 no-transform). */
export function forbidsTransform(cacheControl: string | undefined): boolean {
  return cacheControl !== undefined && /(^|,)\s*no-transform\s*(,|$)/i.test(cacheControl);
}

function contentTypeListed(value: string | undefined, types: ReadonlySet<string>): boolean {
  if (value === undefined) return false;
  return types.has(value.split(';')[0]!.trim().toLowerCase());
}

/** Decides from a head whether its body is compressed. */
function eligible(headers: HeaderMap, rules: DirectionRules, maxBodyBytes: number): boolean {
  if (headers.get('content-encoding') !== undefined) return false;
  if (forbidsTransform(headers.get('cache-control'))) return false;
  if (!contentTypeListed(headers.get('content-type'), rules.contentTypes)) return false;
  const length = Number(headers.get('content-length'));
  if (!Number.isSafeInteger(length)) return false; // unknown length: passes through (see the header)
  return length >= rules.minContentLength && length <= maxBodyBytes && length > 0;
}

function compressTask(coding: Coding, data: Uint8Array): BodyCodingTask {
  return coding.algorithm === 'gzip' ? { kind: 'gzip', data, level: coding.level } : { kind: 'brotli', data, quality: coding.level };
}

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/**
 * How a BodyCompressor hands its work to the chain of one direction; `abandon` ends the stream when
 * the body is lost (an offloaded task failed after its bytes moved to the pool thread).
 */
interface CompressIo extends BodyIo {
  abandon(): void;
}

/**
 * Gathers one direction's body and compresses it once it is complete: at its last piece, whose
 * bytes the compressed body replaces, or at its trailers, in front of which the compressed body is
 * added (Envoy's compressor also sends the final compressed bytes before the trailers).
 */
class BodyCompressor {
  readonly #coding: Coding;
  readonly #offload: OffloadRunner | undefined;
  /** The announced Content-Length (eligible bodies always have one, at most max_body_bytes). */
  #length = 0;
  /**
   * The body gathered so far, copied into one buffer of the announced length: one allocation per
   * body rather than a copy per piece plus a concatenation (less garbage for a 1 MiB body).
   */
  #gathered: Buffer | null = null;
  #filled = 0;
  active = false;
  #destroyed = false;

  constructor(coding: Coding, offload: OffloadRunner | undefined) {
    this.#coding = coding;
    this.#offload = offload;
  }

  /** Marks the head: encoding set, length dropped (the compressed size is not known yet). */
  start(headers: HeaderMap, isResponse: boolean): void {
    this.active = true;
    this.#length = Number(headers.get('content-length'));
    headers.set('content-encoding', TOKEN[this.#coding.algorithm]);
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

  /** One body piece. Not the last: kept (copied) and swallowed. The last: the body is compressed. */
  data(chunk: Buffer, endOfStream: boolean, io: CompressIo): FilterStatus {
    if (!endOfStream) {
      this.#keep(chunk);
      io.swallow();
      return FilterStatus.Continue;
    }
    // A body in one piece is compressed from the chain's own view of it, without a copy.
    if (this.#gathered === null) return this.#compress(chunk, false, (b) => io.replace(b), io);
    this.#keep(chunk);
    return this.#compress(this.#take(), true, (b) => io.replace(b), io);
  }

  /** The body ended in trailers: compressed, it goes on in front of them. */
  trailers(io: CompressIo): FilterStatus {
    return this.#compress(this.#take(), true, (b) => io.add(b), io);
  }

  #keep(chunk: Buffer): void {
    if (chunk.length === 0) return;
    let into = (this.#gathered ??= Buffer.allocUnsafeSlow(Math.max(this.#length, chunk.length)));
    if (this.#filled + chunk.length > into.length) {
      // More than announced (the codec checks framing; this only keeps the copy in bounds).
      const grown = Buffer.allocUnsafeSlow(this.#filled + chunk.length);
      into.copy(grown, 0, 0, this.#filled);
      this.#gathered = into = grown;
    }
    this.#filled += chunk.copy(into, this.#filled);
  }

  #take(): Buffer {
    const body = this.#gathered === null ? Buffer.alloc(0) : this.#gathered.subarray(0, this.#filled);
    this.#gathered = null;
    this.#filled = 0;
    return body;
  }

  /**
   * Inline (Continue) below offload_min_bytes or without a pool; else on the pool (Stop, then
   * deliver + resume). `owned`: the body is this filter's copy, not a view of the chain's piece.
   */
  #compress(body: Buffer, owned: boolean, deliver: (b: Buffer) => boolean, io: CompressIo): FilterStatus {
    if (body.length < this.#coding.offloadMinBytes || this.#offload === undefined) {
      compressedInline.inc();
      // The same task function the pool threads run, here on the worker's loop.
      deliver(asBuffer(runBodyCoding(compressTask(this.#coding, body))));
      return FilterStatus.Continue;
    }
    compressedOffload.inc();
    const length = body.length;
    // An owned body (this filter's gathered copy) moves to the pool thread without a copy; the
    // chain's own piece is copied there and stays as it is here.
    const task = compressTask(this.#coding, body);
    this.#offload.run(task, { give: owned }).then(
      (out) => {
        if (this.#destroyed) return;
        deliver(asBuffer(out));
        io.resume();
      },
      (err: unknown) => {
        if (this.#destroyed) return;
        if (task.data.byteLength !== length) {
          // The body had moved to the pool thread when the task failed: there is nothing to send.
          log.warn('offloaded compression failed after its body moved to the pool; the stream is abandoned', err);
          io.abandon();
          return;
        }
        // The head already announced the encoding: compress here rather than send a lie.
        log.warn('offloaded compression failed; compressing inline', err);
        deliver(asBuffer(runBodyCoding(task)));
        io.resume();
      },
    );
    return FilterStatus.Stop;
  }

  destroy(): void {
    this.#destroyed = true;
    this.#gathered = null;
  }
}

interface ResponsePlan {
  readonly rules: DirectionRules;
  readonly disableOnEtag: boolean;
}

class ResponseCompressor extends ResponseBodyFilter<CompressIo, BodyCompressor> {
  readonly #coding: Coding;
  readonly #plan: ResponsePlan;
  #cb: StreamSenderFilterCallbacks | null = null;
  /** The request's Accept-Encoding, taken before remove_accept_encoding_header strips it. */
  acceptEncoding: string | undefined | null = null;

  constructor(coding: Coding, plan: ResponsePlan, offload: OffloadRunner | undefined) {
    super(new BodyCompressor(coding, offload));
    this.#coding = coding;
    this.#plan = plan;
  }

  setSenderCallbacks(callbacks: StreamSenderFilterCallbacks): void {
    this.#cb = callbacks;
    // The head has left: the stream can only be reset.
    this.io = { ...responseBodyIo(callbacks), abandon: () => callbacks.reset(StreamResetReason.LocalReset) };
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
      acceptsEncoding(this.acceptEncoding === null ? request.headers.get('accept-encoding') : this.acceptEncoding, TOKEN[this.#coding.algorithm]) &&
      !(this.#plan.disableOnEtag && response.headers.get('etag') !== undefined) &&
      eligible(response.headers, this.#plan.rules, this.#coding.maxBodyBytes);
    if (ok) this.body.start(response.headers, true);
    else notCompressed.inc();
    return FilterStatus.Continue;
  }
}

class RequestCompressor extends RequestBodyFilter<CompressIo, BodyCompressor> {
  readonly #coding: Coding;
  readonly #rules: DirectionRules;

  constructor(coding: Coding, rules: DirectionRules, offload: OffloadRunner | undefined) {
    super(new BodyCompressor(coding, offload));
    this.#coding = coding;
    this.#rules = rules;
  }

  setReceiverCallbacks(callbacks: StreamReceiverFilterCallbacks): void {
    this.io = { ...requestBodyIo(callbacks), abandon: () => callbacks.sendLocalReply(500, undefined, 'request body lost: its offloaded compression failed\n') };
  }

  onReceiveHeaders(request: RequestFrame, endOfStream: boolean): FilterStatus {
    if (!endOfStream && eligible(request.headers, this.#rules, this.#coding.maxBodyBytes)) this.body.start(request.headers, false);
    return FilterStatus.Continue;
  }
}

export const compressorFilterFactory: StreamFilterFactory = {
  create(config: unknown, path: string, ctx?: StreamFilterContext): StreamFilterChainFactory {
    const cfg = parseStreamFilterConfig('compressor', compressorFilterSpec, config, path);
    const offload = ctx?.offload;
    const coding: Coding = { algorithm: cfg.algorithm, level: cfg.level, offloadMinBytes: cfg.offloadMinBytes, maxBodyBytes: cfg.maxBodyBytes };
    const res = cfg.response.common_config.enabled
      ? { plan: { rules: rulesOf(cfg.response.common_config), disableOnEtag: cfg.response.disable_on_etag_header }, removeAcceptEncoding: cfg.response.remove_accept_encoding_header }
      : null;
    const req = cfg.request !== undefined && cfg.request.common_config.enabled ? rulesOf(cfg.request.common_config) : null;
    return (_stream, chain) => {
      if (res !== null) {
        const response = new ResponseCompressor(coding, res.plan, offload);
        chain.addSenderFilter(response);
        // Envoy's remove_accept_encoding_header: the upstream then never compresses itself.
        if (res.removeAcceptEncoding) {
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
      if (req !== null) chain.addReceiverFilter(new RequestCompressor(coding, req, offload));
    };
  },
};
