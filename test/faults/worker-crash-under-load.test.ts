/**
 * A worker thread crashes while 16 keep-alive clients drive the sidecar's two workers: it is back
 * within a second, exactly the connections it held are closed, and every connection on the other
 * worker keeps getting answers without a single error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../supervisor/helpers.js';
import { LoggingUpstream, proxySidecarConfig, startSidecar } from '../fuzz/sidecar.js';
import { getOnce, KeepAliveClient, sleep } from './helpers.js';

interface WorkerStats {
  workerIndex: number;
  activeConnections: number;
  down?: string;
}

test('a worker crash under load: respawned within 1 s, only its own connections closed, the other worker untouched', async (t) => {
  const upstream = await new LoggingUpstream().listen();
  t.after(() => upstream.close());
  const sidecar = await startSidecar(proxySidecarConfig([upstream.address]), { env: { RINGSIDE_TEST_HOOKS: '1' } });
  t.after(() => sidecar.stop());
  const address = sidecar.listeners.get('edge')!;
  const clients = await Promise.all(Array.from({ length: 16 }, () => KeepAliveClient.connect(address)));
  t.after(() => clients.forEach((c) => c.socket.destroy()));
  // Every connection has been accepted and served once, so the stats count all of them.
  for (const c of clients) assert.equal((await c.get('/warm')).status, 200);
  const stats = (await http('GET', `http://${sidecar.admin}/stats`)).body as { workers: WorkerStats[] };
  const onVictim = stats.workers.find((w) => w.workerIndex === 0)!.activeConnections;
  const onSurvivor = stats.workers.find((w) => w.workerIndex === 1)!.activeConnections;
  assert.equal(onVictim + onSurvivor, 16);
  assert.ok(onVictim > 0 && onSurvivor > 0, `connections spread ${onVictim}/${onSurvivor}`);

  let running = true;
  const answered = new Map<KeepAliveClient, number>();
  const errorsAfterCrash = new Map<KeepAliveClient, string>();
  const loops = clients.map(async (c) => {
    while (running && !c.closed) {
      try {
        const a = await c.get('/load');
        assert.equal(a.status, 200);
        answered.set(c, (answered.get(c) ?? 0) + 1);
      } catch (err) {
        errorsAfterCrash.set(c, (err as Error).message);
      }
    }
  });
  await sleep(200);
  const crashedAt = performance.now();
  assert.equal((await http('POST', `http://${sidecar.admin}/test/crash?worker=0&mode=throw`)).status, 202);
  await sidecar.child.waitStderr(/worker\/0 respawned/, 5000);
  const respawnMs = performance.now() - crashedAt;
  // Load continues against both workers, the respawned one included.
  await sleep(300);
  const fresh = await Promise.all(Array.from({ length: 8 }, () => getOnce(address, '/after')));
  running = false;
  await Promise.all(loops);

  const closed = clients.filter((c) => c.closed);
  const open = clients.filter((c) => !c.closed);
  t.diagnostic(sidecar.child.stderr().split('\n').filter((l) => /worker\/0 (crashed|respawned)|booted|ready/.test(l)).join('\n'));
  t.diagnostic(`respawned after ${respawnMs.toFixed(0)} ms; ${closed.length} connections closed (worker 0 held ${onVictim}); answers on survivors ${open.map((c) => answered.get(c) ?? 0).join(',')}`);
  assert.ok(respawnMs <= 1000, `respawn took ${respawnMs.toFixed(0)} ms`);
  assert.equal(closed.length, onVictim, 'exactly the crashed worker’s connections were closed');
  for (const c of open) {
    assert.equal(errorsAfterCrash.get(c), undefined, 'a connection on the other worker saw an error');
    assert.ok((answered.get(c) ?? 0) > 1, 'a connection on the other worker kept being answered');
  }
  assert.deepEqual(fresh.map((a) => a.status), new Array(8).fill(200), 'new connections are served after the respawn');
  const after = (await http('GET', `http://${sidecar.admin}/stats`)).body as { workers: WorkerStats[] };
  assert.deepEqual(after.workers.map((w) => w.down === undefined), [true, true]);
});
