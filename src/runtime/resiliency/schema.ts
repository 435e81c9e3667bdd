/**
 * `ringside.resiliency`: a Dapr Resiliency resource (apiVersion dapr.io/v1alpha1, kind Resiliency) in
 * JSON — `spec.policies` (timeouts, retries, circuitBreakers) and `spec.targets.apps` by app id — with
 * Dapr's defaults. Built with the config kit, so unknown keys (targets.actors, targets.components,
 * which Ringside has nothing to apply to) are warnings with their path, and bad values and targets
 * naming a missing policy stop start-up with theirs.
 */
import { z } from 'zod';
import type { ConfigKit } from '../../types/extension.js';
import { duration } from '../../config/primitives.js';
import { TripExpressionError, compileTrip } from './trip.js';

/** Dapr's code list: "429,500-599" → [[429,429],[500,599]]. */
function codeList(min: number, max: number) {
  return z.string().transform((text, ctx): [number, number][] => {
    const out: [number, number][] = [];
    if (text.trim() === '') return out;
    for (const part of text.split(',')) {
      const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
      const lo = m === null ? NaN : Number(m[1]);
      const hi = m === null ? NaN : m[2] === undefined ? lo : Number(m[2]);
      if (!(lo >= min && hi <= max && lo <= hi)) {
        ctx.addIssue({ code: 'custom', message: `"${part.trim()}" is not a code or range (start-end) within ${min}-${max}`, input: text });
        return z.NEVER;
      }
      out.push([lo, hi]);
    }
    return out;
  });
}

const tripExpression = z.string().superRefine((src, ctx) => {
  try {
    compileTrip(src);
  } catch (e) {
    if (!(e instanceof TripExpressionError)) throw e;
    ctx.addIssue({ code: 'custom', message: `invalid trip expression: ${e.message}` });
  }
});


export function resiliencySchema(k: ConfigKit) {
  const retry = k.obj({
    policy: z.enum(['constant', 'exponential']).default('constant'),
    /** constant: the wait between tries. */
    duration: duration().default(5000),
    /** exponential: the longest wait between tries. */
    maxInterval: duration().default(60_000),
    /** -1: no limit (the caller's deadline still ends the call); 0: no retry. */
    maxRetries: z.number().int().min(-1).default(-1),
    matching: k
      .obj({
        httpStatusCodes: codeList(100, 599).optional(),
        gRPCStatusCodes: codeList(0, 16).optional(),
      })
      .optional(),
  });
  const circuitBreaker = k.obj({
    /** Requests let through while half-open. */
    maxRequests: z.number().int().min(1).default(1),
    /** Closed state: how often the counts are cleared; 0 never. */
    interval: duration().default(0),
    /** How long the breaker stays open before it lets a request try (half-open). */
    timeout: duration().default(60_000),
    trip: tripExpression.default('consecutiveFailures > 5'),
  });
  const appTarget = k.obj({
    timeout: z.string().min(1).optional(),
    retry: z.string().min(1).optional(),
    circuitBreaker: z.string().min(1).optional(),
  });
  return k
    .obj({
      apiVersion: z.literal('dapr.io/v1alpha1').optional(),
      kind: z.literal('Resiliency').optional(),
      metadata: k.obj({ name: z.string().optional(), namespace: z.string().optional() }).optional(),
      /** The app ids this resource applies to; absent: every app. */
      scopes: z.array(z.string().min(1)).optional(),
      spec: k.obj({
        policies: k
          .obj({
            timeouts: z.record(z.string(), duration()).default({}),
            retries: z.record(z.string(), retry).default({}),
            circuitBreakers: z.record(z.string(), circuitBreaker).default({}),
          })
          .prefault({}),
        targets: k.obj({ apps: z.record(z.string(), appTarget).default({}) }).prefault({}),
      }),
    })
    .superRefine((r, ctx) => {
      const kinds = [
        ['timeout', r.spec.policies.timeouts],
        ['retry', r.spec.policies.retries],
        ['circuitBreaker', r.spec.policies.circuitBreakers],
      ] as const;
      for (const [app, target] of Object.entries(r.spec.targets.apps)) {
        for (const [key, table] of kinds) {
          const name = target[key];
          if (name !== undefined && !(name in table)) {
            const known = Object.keys(table);
            ctx.addIssue({
              code: 'custom',
              path: ['spec', 'targets', 'apps', app, key],
              message: `no ${key} policy named "${name}" (defined: ${known.length === 0 ? 'none' : known.join(', ')})`,
            });
          }
        }
      }
    });
}

export type ResiliencyConfig = z.output<ReturnType<typeof resiliencySchema>>;
export type RetryPolicyConfig = ResiliencyConfig['spec']['policies']['retries'][string];
export type CircuitBreakerConfig = ResiliencyConfig['spec']['policies']['circuitBreakers'][string];
