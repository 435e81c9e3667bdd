/**
 * The V8 limits every data-plane thread runs with (Node's Worker `resourceLimits`), from
 * `ringside.worker_heap`. The same for a thread a slot spawns and one the CLI prewarmed before the
 * config was read: a prewarmed thread is taken only when its limits are the configured ones.
 *
 * Why the young generation is 48 MiB by default (what Node gives a worker: 16 MiB semi-spaces), not
 * smaller. A worker serving many calls at once keeps every in-flight call's objects alive across
 * scavenges; with a small young generation scavenges come so often that those objects survive two of
 * them and are promoted, so each scavenge copies more and the old generation fills and is marked
 * again every second or two. Measured with 64 pipelined InvokeService calls on one connection
 * (bench:invoke1, two workers, the loaded worker, `--trace-gc-nvp`): at 16 MiB a scavenge every
 * 25 ms, 3–8 ms each, 0.9 MiB of its 6 MiB promoted, the loaded worker 142–171 µs of CPU per call
 * and two workers 1.23–1.27× one; at 48 MiB 110–143 µs and 1.51×. The price is memory under load:
 * both semi-spaces become resident as traffic fills them, so the Dapr HTTP invoke at 1,000 req/s
 * (bench:footprint) holds 1.29–1.30× its idle RSS against 1.18× at 16 MiB. A pod that counts
 * memory before throughput sets `max_young_generation_mb: 16`.
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
