/**
 * Config reload on a real sidecar (two workers, port 0): keep-alive connections held across a reload
 * keep working and see the new routes and clusters; a new listener binds, a removed one stops
 * accepting, a changed one lets its in-flight request finish; an invalid file changes nothing;
 * SIGHUP does what POST /reload does; /stats, config_dump and /metrics show the version in force.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild, tryConnect } from '../supervisor/helpers.js';
import { sample } from '../observability/helpers.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;

/** `/slow` is answered only once the test calls release() (after the reload has been applied). */
let release: () => void = () => {};
const released = new Promise<void>((r) => (release = r));
let slowArrived: () => void = () => {};
const slowSeen = new Promise<void>((r) => (slowArrived = r));

async function upstream(name: string): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) => {
    req.resume();
    if (req.url !== '/slow') {
      res.end(name);
      return;
    }
    slowArrived();
    void released.then(() => res.end(name));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function proxyListener(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    address: '127.0.0.1:0',
    bind_port: true,
    filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'r' } }] }],
    ...extra,
  };
}

function config(listeners: Record<string, unknown>[], host: string, lb = 'LB_ROUNDROBIN'): string {
  return JSON.stringify({
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'vh', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }] }] }],
        listeners,
      },
    ],
    cluster_manager: { clusters: [{ name: 'c', type: 'SIMPLE', lb_type: lb, hosts: [{ address: host }] }] },
    ringside: { admin: { address: '127.0.0.1:0' }, drain_timeout: 500, dapr: { enabled: false } },
  });
}

/** A request on `agent`; tells whether it reused a socket the agent already held. */
function call(agent: Agent, address: string, path = '/'): Promise<{ status: number; body: string; reused: boolean; connection: string | undefined }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function admin(method: string, url: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const res = await fetch(url, { method });
  return { status: res.status, body: await res.text(), headers: Object.fromEntries(res.headers) };
}

test('reload: held keep-alive connections keep working, listeners bind and retire, invalid files change nothing', async (t) => {
  const a = await upstream('A');
  const b = await upstream('B');
  const dir = mkdtempSync(join(tmpdir(), 'ringside-reload-'));
  const file = join(dir, 'sidecar.json');
  writeFileSync(file, config([proxyListener('edge'), proxyListener('edge2'), proxyListener('gone')], a.address));
  const child = startChild(main, ['start', '-c', file, '--workers', '2']);
  const agents: Agent[] = [];
  t.after(async () => {
    for (const ag of agents) ag.destroy();
    child.kill();
    await child.exited;
    a.server.close();
    b.server.close();
  });
  const ready = await child.waitStdout(/^ringside ready:/, 20_000);
  const at = (name: string): string => new RegExp(`${name}@([^,\\s]+)`).exec(ready)![1]!;
  const edge = at('edge');
  const edge2 = at('edge2');
  const gone = at('gone');
  const adminAddr = /admin listening on ([^\s"]+)/.exec(child.stderr())![1]!;

  // Several keep-alive connections, so both workers hold some.
  const held = Array.from({ length: 4 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  agents.push(...held);
  for (const ag of held) assert.equal((await call(ag, edge)).body, 'A');

  // v2: the cluster moves to B, a listener is added, one removed, edge2 changed (an idle timeout).
  writeFileSync(file, config([proxyListener('edge'), proxyListener('edge2', { connection_idle_timeout: '30s' }), proxyListener('fresh')], b.address));
  const slowAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(slowAgent);
  assert.equal((await call(slowAgent, edge2)).body, 'A');
  const inFlight = call(slowAgent, edge2, '/slow');
  await slowSeen;
  const reload = await admin('POST', `http://${adminAddr}/reload`);
  release();
  assert.equal(reload.status, 200, reload.body);
  const outcome = JSON.parse(reload.body) as { result: string; version: { version: number } };
  assert.equal(outcome.result, 'applied');
  assert.equal(outcome.version.version, 2);

  // The request that was in flight on the changed listener finished, and was told to close.
  const slow = await inFlight;
  assert.equal(slow.status, 200);
  assert.equal(slow.body, 'A', 'an in-flight request finishes on the cluster it had');
  assert.equal(slow.connection, 'close');

  for (const ag of held) {
    const r = await call(ag, edge);
    assert.equal(r.body, 'B', 'the held connection sees the new cluster');
    assert.equal(r.reused, true, 'on the same connection');
  }
  assert.equal((await call(new Agent(), edge2)).body, 'B', 'the changed listener serves at its address');
  const stats = JSON.parse((await admin('GET', `http://${adminAddr}/stats`)).body) as {
    config: { version: number };
    workers: { listeners: { name: string; address: string }[] }[];
  };
  assert.equal(stats.config.version, 2);
  const freshAddr = stats.workers[0]!.listeners.find((l) => l.name === 'fresh')!.address;
  assert.equal((await call(new Agent(), freshAddr)).body, 'B', 'the new listener accepts');
  for (const w of stats.workers) {
    assert.equal(w.listeners.find((l) => l.name === 'fresh')!.address, freshAddr, 'every worker binds the new port');
    assert.equal(w.listeners.some((l) => l.name === 'gone'), false);
  }
  assert.equal(await tryConnect(gone), 'ECONNREFUSED', 'the removed listener stopped accepting');

  // An invalid file: 400 with the JSON path, nothing changes.
  writeFileSync(file, config([proxyListener('edge')], a.address, 'LB_NOPE'));
  const bad = await admin('POST', `http://${adminAddr}/reload`);
  assert.equal(bad.status, 400, bad.body);
  const badOutcome = JSON.parse(bad.body) as { result: string; issues: { path: string }[]; version: { version: number } };
  assert.equal(badOutcome.result, 'invalid');
  assert.ok(badOutcome.issues.some((i) => i.path === 'cluster_manager.clusters[0].lb_type'), bad.body);
  assert.equal(badOutcome.version.version, 2);
  for (const ag of held) assert.equal((await call(ag, edge)).body, 'B');
  assert.equal((await call(new Agent(), freshAddr)).body, 'B', 'a listener the invalid file drops still serves');

  // A change that needs a restart is refused with its path.
  writeFileSync(file, config([proxyListener('edge')], a.address).replace('"drain_timeout":500', '"drain_timeout":700'));
  const restart = await admin('POST', `http://${adminAddr}/reload`);
  assert.equal(restart.status, 400, restart.body);
  assert.match(restart.body, /ringside\.drain_timeout.*takes a restart/);

  // SIGHUP: back to cluster A, fresh removed.
  writeFileSync(file, config([proxyListener('edge'), proxyListener('edge2', { connection_idle_timeout: '30s' })], a.address));
  child.proc.kill('SIGHUP');
  await child.waitStderr(/config version 3 /, 10_000);
  for (const ag of held) {
    const r = await call(ag, edge);
    assert.equal(r.body, 'A');
    assert.equal(r.reused, true);
  }
  const dump = await admin('GET', `http://${adminAddr}/api/v1/config_dump`);
  assert.equal(dump.headers['x-ringside-config-version'], '3');
  assert.deepEqual((JSON.parse(dump.body) as { servers: { listeners: { name: string }[] }[] }).servers[0]!.listeners.map((l) => l.name), ['edge', 'edge2']);
  const metrics = (await admin('GET', `http://${adminAddr}/metrics`)).body;
  assert.equal(sample(metrics, 'ringside_config_reloads_total{result="applied"}'), 2);
  assert.equal(sample(metrics, 'ringside_config_reloads_total{result="invalid"}'), 2);
  assert.equal(sample(metrics, 'ringside_config_version'), 3);
});
