/**
 * Every data-plane thread runs with the configured V8 young-generation limit (`ringside.worker_heap`),
 * whether a slot spawns it or takes it prewarmed: the thread itself reports the limit it got. A
 * prewarmed thread started with other limits is not taken, since V8 fixes them when a thread starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerSlot } from '../../src/supervisor/worker-slot.js';
import { disposePrewarmed, prewarmDataplane } from '../../src/supervisor/prewarm.js';
import { DEFAULT_MAX_YOUNG_GENERATION_MB, configuredResourceLimits } from '../../src/supervisor/heap-limits.js';
import { LoadBoard } from '../../src/actor/load-board.js';
import { parse, baseConfig } from '../config/helpers.js';

const entry = new URL('./fixtures/limits-worker.js', import.meta.url);

async function limitSeenBySlotThread(config: unknown): Promise<{ limit: number; prewarmed: boolean }> {
  const slot = new WorkerSlot(0);
  const loadBoard = LoadBoard.allocate(1);
  await slot.spawn({ entry, workerCount: 1, config, loadBoard, resourceLimits: configuredResourceLimits(config), onMesh: () => {}, onUnexpectedExit: () => {} });
  await slot.terminate();
  const cells = new Int32Array(loadBoard);
  return { limit: Atomics.load(cells, 0), prewarmed: Atomics.load(cells, 1) === 1 };
}

test('spawned and prewarmed threads run with the configured young-generation limit; other limits skip the prewarmed thread', async () => {
  const defaults = parse(baseConfig()).config;
  const small = parse({ ...baseConfig(), ringside: { worker_heap: { max_young_generation_mb: 16 } } }).config;
  assert.equal(defaults.ringside.worker_heap.max_young_generation_mb, DEFAULT_MAX_YOUNG_GENERATION_MB);
  assert.deepEqual(await limitSeenBySlotThread(defaults), { limit: DEFAULT_MAX_YOUNG_GENERATION_MB, prewarmed: false });
  // One prewarm per process: this thread has the default limits, as it starts before any config is read.
  prewarmDataplane(1, entry);
  try {
    assert.deepEqual(await limitSeenBySlotThread(small), { limit: 16, prewarmed: false }, 'a 16 MiB config gets a fresh thread');
    assert.deepEqual(await limitSeenBySlotThread(defaults), { limit: DEFAULT_MAX_YOUNG_GENERATION_MB, prewarmed: true }, 'the prewarmed thread was left for it');
  } finally {
    disposePrewarmed();
  }
});
