/**
 * An upstream process SIGKILLed while 16 keep-alive clients drive the sidecar (two worker threads):
 * every request is answered — 200 before and after, 502/503 while the upstream is gone — well within
 * the route timeout, no client connection is dropped without an answer, and traffic is served by
 * the upstream again once it is back on its port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { proxySidecarConfig, startSidecar } from '../fuzz/sidecar.js';
import { KeepAliveClient, sleep } from './helpers.js';

const upstreamScript = new URL('./fixtures/upstream-process.js', import.meta.url).pathname;
const ROUTE_TIMEOUT_MS = 2000;

async function startUpstream(port = 0): Promise<{ port: number; kill(): void; pid: number }> {
  const proc = spawn(process.execPath, [upstreamScript, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(proc.stdout!, 'data')) as [Buffer];
  return { port: Number(line.toString().trim()), pid: proc.pid!, kill: () => proc.kill('SIGKILL') };
}

test('an upstream SIGKILLed under load: every request is answered within its timeout, and service resumes when it is back', async (t) => {
  let upstream = await startUpstream();
  t.after(() => upstream.kill());
  const sidecar = await startSidecar(
    proxySidecarConfig([`127.0.0.1:${upstream.port}`], { cluster: { connect_timeout: '500ms' }, route: { timeout: `${ROUTE_TIMEOUT_MS}ms` } }),
  );
  t.after(() => sidecar.stop());
  const address = sidecar.listeners.get('edge')!;
  const clients = await Promise.all(Array.from({ length: 16 }, () => KeepAliveClient.connect(address)));
  t.after(() => clients.forEach((c) => c.socket.destroy()));

  const statuses: Record<string, number> = {};
  const unanswered: string[] = [];
  let slowest = 0;
  let phase: 'before' | 'down' | 'back' = 'before';
  const servedBack: number[] = [];
  let running = true;
  const loop = async (c: KeepAliveClient): Promise<void> => {
    while (running) {
      let conn = c;
      try {
        const a = await conn.get('/work');
        statuses[a.status] = (statuses[a.status] ?? 0) + 1;
        slowest = Math.max(slowest, a.ms);
        if (phase === 'back' && a.status === 200) servedBack.push(1);
        if (a.headers.connection === 'close') {
          // Ringside may end a connection after an error answer; the client opens a new one.
          conn = c = await KeepAliveClient.connect(address);
        }
      } catch (err) {
        unanswered.push(`${phase}: ${(err as Error).message}`);
        c = await KeepAliveClient.connect(address);
      }
    }
  };
  const loops = clients.map((c) => loop(c));
  await sleep(300);
  const before = { ...statuses };
  upstream.kill();
  phase = 'down';
  await sleep(500);
  upstream = await startUpstream(upstream.port);
  phase = 'back';
  await sleep(700);
  running = false;
  await Promise.all(loops);

  t.diagnostic(`statuses ${JSON.stringify(statuses)}, slowest answer ${slowest.toFixed(0)} ms, served after restart ${servedBack.length}`);
  assert.deepEqual(unanswered, [], 'every request got an answer on its connection');
  assert.ok((before['200'] ?? 0) > 0, 'traffic flowed before the kill');
  for (const s of Object.keys(statuses)) assert.ok(['200', '502', '503'].includes(s), `unexpected status ${s}`);
  assert.ok((statuses['502'] ?? 0) + (statuses['503'] ?? 0) > 0, 'the outage was seen as 502/503');
  assert.ok(slowest < ROUTE_TIMEOUT_MS, `slowest answer ${slowest} ms, route timeout ${ROUTE_TIMEOUT_MS} ms`);
  assert.ok(servedBack.length > 0, 'the restarted upstream serves traffic again');
  assert.doesNotMatch(sidecar.child.stderr(), /crashed/);
});
