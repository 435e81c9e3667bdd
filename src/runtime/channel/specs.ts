/**
 * The `ext` each channel protocol accepts (Layotto's ChannelConfig.Ext), as ConfigSpecs the loader
 * validates every `channel[]` entry with before anything starts (src/config/filters.ts checkGrpc) and
 * the channel factories read on the worker. Unknown keys are errors: no option is silently dropped.
 */
import { z } from 'zod';
import type { ConfigSpec } from '../../types/extension.js';
import type { ChannelConfig } from './factory.js';
import { DEFAULT_JSON_OFFLOAD_MIN_BYTES, type JsonChannelOptions } from './x-json.js';
import type { GrpcRetryPolicy } from '../../types/grpc.js';
import { duration } from '../../config/primitives.js';

const offloadMin = z.number().int().nonnegative().default(DEFAULT_JSON_OFFLOAD_MIN_BYTES);

/** `http`: Layotto's http channel takes no options. */
export const httpChannelSpec: ConfigSpec<Record<string, never>> = {
  schema: () => z.strictObject({}) as unknown as z.ZodType<Record<string, never>>,
};

export interface DubboChannelExt extends JsonChannelOptions {}

/** `dubbo`: Ringside's JSON offload threshold only. */
export const dubboChannelSpec: ConfigSpec<DubboChannelExt> = {
  schema: () =>
    z.strictObject({ json_offload_min_bytes: offloadMin }).transform((e) => ({ jsonOffloadMinBytes: e.json_offload_min_bytes })),
};

export interface BoltChannelExt extends JsonChannelOptions {
  /** The bolt request's class name (Layotto: `ext.class`, required). */
  readonly className: string;
}

/** `bolt` / `boltv2`: Layotto's required `class`, and Ringside's JSON offload threshold. */
export const boltChannelSpec: ConfigSpec<BoltChannelExt> = {
  schema: () =>
    z
      .strictObject({
        class: z.string({ error: 'bolt needs ext.class (the request class name), as in Layotto' }).min(1),
        json_offload_min_bytes: offloadMin,
      })
      .transform((e) => ({ className: e.class, jsonOffloadMinBytes: e.json_offload_min_bytes })),
};

/** gRPC status names (retryable_status_codes is written with them, as in a service config). */
const STATUS_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

export interface GrpcChannelExt {
  readonly retry?: GrpcRetryPolicy;
  readonly gzipMinBytes?: number;
  /** The app's hosts are this cluster's, each call picked by its lb_type (instead of dialing `listener`). */
  readonly cluster?: string;
  /** Metadata names whose first present value is the hash key (LB_RING_HASH, LB_MAGLEV). */
  readonly hashHeaders: readonly string[];
}

/**
 * `grpc`: the retry policy (gRFC A6's retryPolicy, snake_case), the compression threshold, and the
 * cluster whose hosts the calls go to with the route-style hash_policy (header entries: metadata).
 */
export const grpcChannelSpec: ConfigSpec<GrpcChannelExt> = {
  schema: () =>
    z
      .strictObject({
        retry_policy: z
          .strictObject({
            max_attempts: z.number().int().min(2).max(5),
            initial_backoff: duration(),
            max_backoff: duration(),
            backoff_multiplier: z.number().gt(0),
            retryable_status_codes: z.array(z.enum(STATUS_NAMES)).min(1),
          })
          .optional(),
        gzip_min_bytes: z.number().int().nonnegative().optional(),
        cluster: z.string().min(1).optional(),
        hash_policy: z
          .array(z.strictObject({ header: z.strictObject({ key: z.string().min(1) }) }, { error: 'a gRPC channel hashes on metadata only: {"header": {"key": NAME}}' }))
          .min(1)
          .optional(),
      })
      .refine((e) => e.hash_policy === undefined || e.cluster !== undefined, { error: 'hash_policy picks among the hosts of ext.cluster: set cluster', path: ['hash_policy'] })
      .transform((e) => ({
        ...(e.cluster !== undefined ? { cluster: e.cluster } : {}),
        hashHeaders: (e.hash_policy ?? []).map((p) => p.header.key.toLowerCase()),
        ...(e.retry_policy !== undefined
          ? {
              retry: {
                maxAttempts: e.retry_policy.max_attempts,
                initialBackoffMs: e.retry_policy.initial_backoff,
                maxBackoffMs: e.retry_policy.max_backoff,
                backoffMultiplier: e.retry_policy.backoff_multiplier,
                retryableStatusCodes: new Set(e.retry_policy.retryable_status_codes.map((n) => STATUS_NAMES.indexOf(n))),
              },
            }
          : {}),
        ...(e.gzip_min_bytes !== undefined ? { gzipMinBytes: e.gzip_min_bytes } : {}),
      })),
  check: (ext, path, refs) =>
    ext.cluster === undefined || refs.clusters.has(ext.cluster) ? [] : [{ path: `${path}.cluster`, message: `no cluster named "${ext.cluster}"` }],
};

/** The channel's validated ext (the loader already refused a bad one, so this only normalizes). */
export function channelExt<T>(spec: ConfigSpec<T>, config: ChannelConfig, path: string): T {
  const r = spec.schema({ strict: false, obj: (shape) => z.object(shape) }).safeParse(config.ext ?? {});
  if (!r.success) throw new Error(`${path}.ext: ${r.error.issues.map((i) => i.message).join('; ')}`);
  return r.data;
}
