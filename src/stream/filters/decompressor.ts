/**
 * `decompressor` stream filter: gzip or brotli decompression of request bodies before the upstream
 * and of response bodies before the downstream, with the semantics of Envoy's decompressor filter:
 *
 *   { "decompressor_library": { "name": "gzip" },                                  // or "brotli"
 *     "request_direction_config": { "common_config": { "enabled": true, "ignore_no_transform_header": false },
 *                                   "advertise_accept_encoding": true },
 *     "response_direction_config": { "common_config": { "enabled": true, "ignore_no_transform_header": false } },
 *     "offload_min_bytes": 65536 }
 *
 * A body is decompressed when its direction is enabled, the head has a body, its Content-Encoding's
 * outermost coding (the last listed, RFC 9110 §8.4) is the library's (`gzip` / `br`), and
 * Cache-Control has no `no-transform` (unless ignore_no_transform_header). That coding is removed
 * from Content-Encoding (the header goes when none is left) and Content-Length is dropped: the
 * plain body goes on chunked. With advertise_accept_encoding and response decompression on, the
 * library's coding is added to the request's Accept-Encoding, so the upstream may compress what
 * this filter then decompresses for the client.
 *
 * Limits: the compressed body and the decompressed one are each bounded by
 * ringside.limits.max_body_bytes, so a decompression bomb costs at most that much memory. A request
 * over it is answered 413, a request whose bytes do not decompress 400 — that stream alone; the
 * connection and every other stream carry on. A response cannot get a new status once its head left,
 * so a response over the bound or not decompressible is reset (HTTP/1: the connection closes after
 * the earlier answers; HTTP/2: that stream alone) instead of delivering a body that is not the
 * upstream's.
 *
 * Like the compressor, the body is decompressed whole once it has arrived — at its last piece, or at
 * its trailers, which then follow the plain body: bodies of at least offload_min_bytes (compressed
 * size) on the worker's piscina pool, smaller ones inline, both with the same offload task function.
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
import { runBodyCoding, type BodyCodingTask } from './codings.js';
import { RequestBodyFilter, ResponseBodyFilter, requestBodyIo, responseBodyIo, type BodyIo } from './body-io.js';
import { acceptsEncoding, forbidsTransform, TOKEN } from './compressor.js';
import { featureFlag, intIn, parseStreamFilterConfig, RUNTIME_KEY_IGNORED, typeUrlIssue } from './config.js';

const decompressedInline = counter('decompressor.decompressed_inline');
const decompressedOffload = counter('decompressor.decompressed_offload');
const tooLarge = counter('decompressor.too_large');
const corrupt = counter('decompressor.corrupt');

/** ringside.limits.max_body_bytes' default, for a filter built without a worker context (tests). */
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

function decompressorSchema(k: ConfigKit) {
  const common = k
    .obj({
      enabled: featureFlag(k).default(true),
      /** true: decompress even when Cache-Control says no-transform. */
      ignore_no_transform_header: z.boolean().default(false),
    })
    .prefault({});
  return k.obj({
    decompressor_library: k
      .obj({ name: z.enum(['gzip', 'brotli'], { error: 'expected "gzip" or "brotli"' }), typed_config: k.obj({ '@type': z.string().optional() }).prefault({}) })
      .superRefine((l, ctx) => {
        const bad = typeUrlIssue(l.name, 'decompressor', l.typed_config['@type']);
        if (bad !== undefined) ctx.addIssue({ code: 'custom', message: bad, path: ['typed_config', '@type'], input: l.typed_config['@type'] });
      }),
    request_direction_config: k.obj({ common_config: common, advertise_accept_encoding: z.boolean().default(true) }).prefault({}),
    response_direction_config: k.obj({ common_config: common }).prefault({}),
    offload_min_bytes: intIn(0, 2 ** 31 - 1).default(64 * 1024),
  });
}

export type DecompressorConfig = z.output<ReturnType<typeof decompressorSchema>>;
type Library = DecompressorConfig['decompressor_library']['name'];

export const decompressorFilterSpec: ConfigSpec<DecompressorConfig> = {
  schema: decompressorSchema,
  ignored: {
    'decompressor_library.typed_config': Object.fromEntries(
      ['window_bits', 'chunk_size', 'disable_ring_buffer_reallocation', 'max_inflate_ratio'].map((key) => [
        key,
        { reason: "ignored: Node's zlib decoders run with their defaults; the output is bounded by ringside.limits.max_body_bytes" },
      ]),
    ),
    'request_direction_config.common_config.enabled': RUNTIME_KEY_IGNORED,
    'response_direction_config.common_config.enabled': RUNTIME_KEY_IGNORED,
  },
};

/** One configured entry, compiled once. */
interface Plan {
  readonly library: Library;
  readonly token: string;
  readonly offloadMinBytes: number;
  readonly maxBodyBytes: number;
}

interface Direction {
  readonly ignoreNoTransform: boolean;
}

/**
 * Whether the head's body is decompressed; if so, strips the coding and the length. The coding
 * removed is the outermost, which is the last one applied and listed.
 */
function takeEncoding(headers: HeaderMap, token: string, dir: Direction): boolean {
  const value = headers.get('content-encoding');
  if (value === undefined) return false;
  if (!dir.ignoreNoTransform && forbidsTransform(headers.get('cache-control'))) return false;
  const codings = value.split(',').map((c) => c.trim()).filter((c) => c !== '');
  if (codings.length === 0 || codings[codings.length - 1]!.toLowerCase() !== token) return false;
  codings.pop();
  if (codings.length === 0) headers.remove('content-encoding');
  else headers.set('content-encoding', codings.join(', '));
  headers.remove('content-length');
  return true;
}

/** Why a gathered body could not be delivered plain. */
const enum Failure {
  TooLarge,
  Corrupt,
}

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/** zlib throws a RangeError (ERR_BUFFER_TOO_LARGE) when the output passes maxOutputLength; it keeps its name across the pool. */
const failureOf = (err: unknown): Failure => ((err as { name?: unknown } | null)?.name === 'RangeError' ? Failure.TooLarge : Failure.Corrupt);

/** How a BodyDecompressor hands its work to the chain of one direction. */
/** The body of one direction, and how this filter ends its stream when the body cannot be decoded. */
interface DecodeIo extends BodyIo {
  /** Ends the stream instead: the body is too large or not the library's coding. */
  fail(f: Failure): void;
}

/**
 * Gathers one direction's compressed body (bounded) and decompresses it whole once it is complete:
 * at its last piece, whose bytes the plain body replaces, or at its trailers, in front of which the
 * plain body is added.
 */
class BodyDecompressor {
  readonly #plan: Plan;
  readonly #offload: OffloadRunner | undefined;
  #pieces: Buffer[] = [];
  #bytes = 0;
  active = false;
  #destroyed = false;

  constructor(plan: Plan, offload: OffloadRunner | undefined) {
    this.#plan = plan;
    this.#offload = offload;
  }

  /** One body piece. Not the last: kept (copied) and swallowed. The last: the body is decompressed. */
  data(chunk: Buffer, endOfStream: boolean, io: DecodeIo): FilterStatus {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#plan.maxBodyBytes) {
      this.#fail(Failure.TooLarge, io);
      return FilterStatus.Stop;
    }
    if (!endOfStream) {
      if (chunk.length > 0) this.#pieces.push(Buffer.from(chunk));
      io.swallow();
      return FilterStatus.Continue;
    }
    const body = this.#pieces.length === 0 ? chunk : Buffer.concat(chunk.length === 0 ? this.#pieces : [...this.#pieces, chunk]);
    this.#pieces = [];
    return this.#decompress(body, body !== chunk, (b) => io.replace(b), io);
  }

  /** The body ended in trailers: decompressed, it goes on in front of them. */
  trailers(io: DecodeIo): FilterStatus {
    const body = Buffer.concat(this.#pieces);
    this.#pieces = [];
    return this.#decompress(body, true, (b) => io.add(b), io);
  }

  /**
   * Inline (Continue) below offload_min_bytes (compressed size) or without a pool; else on the pool
   * (Stop, then deliver + resume). `owned`: the body is this filter's copy, not the chain's piece.
   */
  #decompress(body: Buffer, owned: boolean, deliver: (b: Buffer) => boolean, io: DecodeIo): FilterStatus {
    if (body.length < this.#plan.offloadMinBytes || this.#offload === undefined) {
      decompressedInline.inc();
      let out: Uint8Array;
      try {
        // The same task function the pool threads run, here on the worker's loop.
        out = runBodyCoding(this.#task(body));
      } catch (err) {
        this.#fail(failureOf(err), io);
        return FilterStatus.Stop;
      }
      deliver(asBuffer(out));
      return FilterStatus.Continue;
    }
    decompressedOffload.inc();
    // An owned body (this filter's concatenation) moves to the pool thread; the chain's piece is copied.
    this.#offload.run(this.#task(body), { give: owned }).then(
      (out) => {
        if (this.#destroyed) return;
        deliver(asBuffer(out));
        io.resume();
      },
      (err: unknown) => {
        if (!this.#destroyed) this.#fail(failureOf(err), io);
      },
    );
    return FilterStatus.Stop;
  }

  #task(data: Uint8Array): BodyCodingTask {
    const maxOutput = this.#plan.maxBodyBytes;
    return this.#plan.library === 'gzip' ? { kind: 'gunzip', data, maxOutput } : { kind: 'brotli.decompress', data, maxOutput };
  }

  #fail(f: Failure, io: DecodeIo): void {
    this.#pieces = [];
    (f === Failure.TooLarge ? tooLarge : corrupt).inc();
    io.fail(f);
  }

  destroy(): void {
    this.#destroyed = true;
    this.#pieces = [];
  }
}

class RequestDecompressor extends RequestBodyFilter<DecodeIo, BodyDecompressor> {
  readonly #plan: Plan;
  /** null: request bodies pass as they are (the filter only advertises Accept-Encoding). */
  readonly #dir: Direction | null;
  readonly #advertise: boolean;

  constructor(plan: Plan, dir: Direction | null, advertise: boolean, offload: OffloadRunner | undefined) {
    super(new BodyDecompressor(plan, offload));
    this.#plan = plan;
    this.#dir = dir;
    this.#advertise = advertise;
  }

  setReceiverCallbacks(cb: StreamReceiverFilterCallbacks): void {
    const max = this.#plan.maxBodyBytes;
    const library = this.#plan.library;
    this.io = {
      ...requestBodyIo(cb),
      fail: (f) =>
        f === Failure.TooLarge
          ? cb.sendLocalReply(413, undefined, `decompressed request body larger than limits.max_body_bytes (${max} bytes)\n`)
          : cb.sendLocalReply(400, undefined, `request body is not valid ${library} data\n`),
    };
  }

  onReceiveHeaders(request: RequestFrame, endOfStream: boolean): FilterStatus {
    const h = request.headers;
    if (this.#advertise) {
      const accept = h.get('accept-encoding');
      if (accept === undefined) h.set('accept-encoding', this.#plan.token);
      else if (!acceptsEncoding(accept, this.#plan.token)) h.set('accept-encoding', `${accept}, ${this.#plan.token}`);
    }
    if (this.#dir !== null && !endOfStream && takeEncoding(h, this.#plan.token, this.#dir)) this.body.active = true;
    return FilterStatus.Continue;
  }
}

class ResponseDecompressor extends ResponseBodyFilter<DecodeIo, BodyDecompressor> {
  readonly #plan: Plan;
  readonly #dir: Direction;
  #cb: StreamSenderFilterCallbacks | null = null;

  constructor(plan: Plan, dir: Direction, offload: OffloadRunner | undefined) {
    super(new BodyDecompressor(plan, offload));
    this.#plan = plan;
    this.#dir = dir;
  }

  setSenderCallbacks(cb: StreamSenderFilterCallbacks): void {
    this.#cb = cb;
    this.io = {
      ...responseBodyIo(cb),
      // The head has left: a new status is too late, so the stream is abandoned.
      fail: () => cb.reset(StreamResetReason.LocalReset),
    };
  }

  onSendHeaders(response: ResponseFrame, endOfStream: boolean): FilterStatus {
    const method = this.#cb?.request?.method;
    const status = response.status;
    // Only a head with a body to follow changes: HEAD, 1xx, 204 and 304 keep their headers.
    if (!endOfStream && method !== 'HEAD' && status >= 200 && status !== 204 && status !== 304) {
      this.body.active = takeEncoding(response.headers, this.#plan.token, this.#dir);
    }
    return FilterStatus.Continue;
  }
}

export const decompressorFilterFactory: StreamFilterFactory = {
  create(config: unknown, path: string, ctx?: StreamFilterContext): StreamFilterChainFactory {
    const cfg = parseStreamFilterConfig('decompressor', decompressorFilterSpec, config, path);
    const library = cfg.decompressor_library.name;
    const plan: Plan = { library, token: TOKEN[library], offloadMinBytes: cfg.offload_min_bytes, maxBodyBytes: ctx?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES };
    const req = cfg.request_direction_config;
    const res = cfg.response_direction_config;
    const request: Direction | null = req.common_config.enabled ? { ignoreNoTransform: req.common_config.ignore_no_transform_header } : null;
    const response: Direction | null = res.common_config.enabled ? { ignoreNoTransform: res.common_config.ignore_no_transform_header } : null;
    // Envoy's advertise_accept_encoding applies only while responses are decompressed.
    const advertise = req.advertise_accept_encoding && response !== null;
    const offload = ctx?.offload;
    return (_stream, chain) => {
      if (request !== null || advertise) chain.addReceiverFilter(new RequestDecompressor(plan, request, advertise, offload));
      if (response !== null) chain.addSenderFilter(new ResponseDecompressor(plan, response, offload));
    };
  },
};
