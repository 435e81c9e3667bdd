/**
 * The V8 limits every data-plane thread runs with (Node's Worker `resourceLimits`), from
 * `ringside.worker_heap`. The same for a thread a slot spawns and one the CLI prewarmed before the
 * config was read: a prewarmed thread is taken only when its limits are the configured ones.
 *
 * Why the young generation is 48 MiB by default (what Node gives a worker: 16 MiB semi-spaces). A
 * worker serving many calls at once keeps every in-flight call's objects alive across scavenges, and
 * the smaller the young generation the more often it scavenges, copies and promotes them. Measured
 * with 64 pipelined InvokeService calls on one connection (`--trace-gc-nvp`): at 16 MiB a scavenge
 * every 25 ms (3–8 ms each, 0.9 of its 6 MiB promoted); at 48 MiB one every 60 ms. What it buys is
 * modest and shows only in aggregate on this machine, whose CPU speed swings by a third from second
 * to second: bench:invoke1's two workers over one, all rounds of a session pooled, 1.37× at 48 MiB
 * (64 rounds; median round 1.40×) against 1.28× at 16 (32 rounds; 1.28×); bench:runtime (8 × 8
 * streams) shows no difference. What it costs is memory under load: both semi-spaces become resident
 * as traffic fills them, so the Dapr HTTP invoke at 1,000 req/s (bench:footprint) holds 1.29–1.31×
 * its idle RSS against 1.20–1.22× at 16 MiB; idle RSS is the same. A pod that counts memory before
 * throughput sets `max_young_generation_mb: 16` (its workers then start without the prewarmed threads,
 * whose limits are fixed before the config is read: ready after 1.3–1.4 s instead of 0.7–0.8 s).
 */
import type { ResourceLimits } from 'node:worker_threads';

export const DEFAULT_MAX_YOUNG_GENERATION_MB = 48;

/** The limits handed to `new Worker`, from the configured young-generation size. */
export function workerResourceLimits(maxYoungGenerationMb: number = DEFAULT_MAX_YOUNG_GENERATION_MB): ResourceLimits {
  return { maxYoungGenerationSizeMb: maxYoungGenerationMb };
}

/** `ringside.worker_heap` of a validated config, tolerating its absence (tests pass partial configs). */
export function configuredResourceLimits(config: unknown): ResourceLimits {
  const mb = (config as { ringside?: { worker_heap?: { max_young_generation_mb?: unknown } } } | undefined)?.ringside?.worker_heap?.max_young_generation_mb;
  return workerResourceLimits(typeof mb === 'number' ? mb : DEFAULT_MAX_YOUNG_GENERATION_MB);
}

export function sameLimits(a: ResourceLimits, b: ResourceLimits): boolean {
  return a.maxYoungGenerationSizeMb === b.maxYoungGenerationSizeMb;
}
