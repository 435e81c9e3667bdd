import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Supervisor } from '../../src/supervisor/supervisor.js';

test('resizeOffloadPool travels over comlink to every worker and shows in their stats', async (t) => {
  const supervisor = new Supervisor({
    config: { ringside: { offload: { threads: 1 } } },
    workers: 2,
    drainTimeoutMs: 500,
    adminAddress: null,
    entry: new URL('./fixtures/line-worker.js', import.meta.url),
  });
  t.after(() => supervisor.drain('test over'));
  const ready = await supervisor.start();
  assert.equal(ready.admin, null);
  const threadsOf = async (): Promise<number[]> =>
    (await supervisor.stats()).workers.map((w) => ('down' in w ? -1 : (w.counters['offload.threads'] ?? -1)));
  assert.deepEqual(await threadsOf(), [1, 1]);
  await supervisor.resizeOffloadPools(3);
  assert.deepEqual(await threadsOf(), [3, 3]);
  await assert.rejects(supervisor.resizeOffloadPools(-1), /integer/);
  await supervisor.drain('test over');
  assert.equal(supervisor.stages.name, 'stop');
});
