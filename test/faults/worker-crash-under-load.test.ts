/**
 * A worker thread crashes while 16 keep-alive clients drive the sidecar's two workers: Ringside
 * notices, backs off and starts the new thread within a second (plus that thread's boot), new
 * connections meanwhile are served, exactly the connections it held are closed, and every
 * connection on the other worker keeps getting answers without a single error.
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

test('a worker crash under load: respawn started within 1 s, new connections served meanwhile, only its own connections closed, the other worker untouched', async (t) => {
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
  // New connections opened while worker 0 is gone are still served (by worker 1, or by the respawned
  // worker 0 from the listener's backlog): none is refused.
  await sidecar.child.waitStderr(/worker\/0 crashed: /, 5000);
  const during = Promise.all(Array.from({ length: 8 }, () => getOnce(address, '/during')));
  await sidecar.child.waitStderr(/worker\/0 respawned/, 10_000);
  const respawnMs = performance.now() - crashedAt;
  // Of that, the new thread's own boot (module loading, listeners) — from the log's clock.
  const logTime = (re: RegExp): number => Date.parse((JSON.parse(sidecar.child.stderr().split('\n').find((l) => re.test(l))!) as { time: string }).time);
  const crashLine = sidecar.child.stderr().split('\n').find((l) => /worker\/0 crashed: .*respawning in/.test(l))!;
  const backoffMs = Number(/respawning in (\d+) ms/.exec(crashLine)![1]);
  const bootMs = logTime(/worker\/0 respawned/) - (logTime(/worker\/0 crashed: /) + backoffMs);
  const duringAnswers = await during;
  // Load continues against both workers, the respawned one included.
  await sleep(300);
  const fresh = await Promise.all(Array.from({ length: 8 }, () => getOnce(address, '/after')));
  running = false;
  await Promise.all(loops);

  const closed = clients.filter((c) => c.closed);
  const open = clients.filter((c) => !c.closed);
  t.diagnostic(sidecar.child.stderr().split('\n').filter((l) => /worker\/0 (crashed|respawned)|booted|ready/.test(l)).join('\n'));
  t.diagnostic(`respawned after ${respawnMs.toFixed(0)} ms (backoff ${backoffMs} ms, new thread boot ${bootMs} ms); ${closed.length} connections closed (worker 0 held ${onVictim}); answers on survivors ${open.map((c) => answered.get(c) ?? 0).join(',')}`);
  // Ringside's part of the outage — noticing the exit, the backoff, starting the new thread — stays
  // within 1 s; the thread's boot is reported beside it (about 1 s on an idle 2-core machine, more
  // when the CPU is shared).
  assert.ok(respawnMs - bootMs <= 1000, `respawn took ${respawnMs.toFixed(0)} ms of which ${bootMs} ms thread boot`);
  assert.deepEqual(duringAnswers.map((a) => a.status), new Array(8).fill(200), 'connections opened during the respawn were served');
  assert.equal(closed.length, onVictim, 'exactly the crashed worker’s connections were closed');
  for (const c of open) {
    assert.equal(errorsAfterCrash.get(c), undefined, 'a connection on the other worker saw an error');
    assert.ok((answered.get(c) ?? 0) > 1, 'a connection on the other worker kept being answered');
  }
  assert.deepEqual(fresh.map((a) => a.status), new Array(8).fill(200), 'new connections are served after the respawn');
  const after = (await http('GET', `http://${sidecar.admin}/stats`)).body as { workers: WorkerStats[] };
  assert.deepEqual(after.workers.map((w) => w.down === undefined), [true, true]);
});
