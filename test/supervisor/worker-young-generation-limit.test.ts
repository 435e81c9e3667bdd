/**
 * Every data-plane thread runs with the sidecar's V8 young-generation limit (WORKER_RESOURCE_LIMITS),
 * whether a slot spawns it or takes it prewarmed: the thread itself reports the limit it got.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerSlot } from '../../src/supervisor/worker-slot.js';
import { WORKER_RESOURCE_LIMITS, disposePrewarmed, prewarmDataplane } from '../../src/supervisor/prewarm.js';
import { LoadBoard } from '../../src/actor/load-board.js';

const entry = new URL('./fixtures/limits-worker.js', import.meta.url);

async function limitSeenBySlotThread(): Promise<{ limit: number; prewarmed: boolean }> {
  const slot = new WorkerSlot(0);
  const loadBoard = LoadBoard.allocate(1);
  await slot.spawn({ entry, workerCount: 1, config: {}, loadBoard, onMesh: () => {}, onUnexpectedExit: () => {} });
  await slot.terminate();
  const cells = new Int32Array(loadBoard);
  return { limit: Atomics.load(cells, 0), prewarmed: Atomics.load(cells, 1) === 1 };
}

test('a spawned and a prewarmed data-plane thread both run with the young-generation limit', async () => {
  assert.deepEqual(await limitSeenBySlotThread(), { limit: WORKER_RESOURCE_LIMITS.maxYoungGenerationSizeMb, prewarmed: false });
  prewarmDataplane(1, entry);
  try {
    assert.deepEqual(await limitSeenBySlotThread(), { limit: WORKER_RESOURCE_LIMITS.maxYoungGenerationSizeMb, prewarmed: true });
  } finally {
    disposePrewarmed();
  }
});
