import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, sample, startProxySidecar } from './helpers.js';
import { http } from '../supervisor/helpers.js';
import { connect } from 'node:net';

test('GET /metrics aggregates every worker: requests and latency per listener, route and cluster, upstream errors by code, connections, event loop per worker', async (t) => {
  const sc = await startProxySidecar(2);
  t.after(() => sc.close());
  const requests = 24;
  for (let i = 0; i < requests; i++) assert.equal((await get(`http://${sc.proxy}/ok/${i}`)).status, 200);
  assert.equal((await get(`http://${sc.proxy}/dead`)).status, 503);
  assert.equal((await get(`http://${sc.proxy}/nowhere`)).status, 404);
  // tcp_proxy: the downstream connection is accepted, then closed once both connect attempts failed.
  let accepted = false;
  await new Promise<void>((resolve) => connect(Number(sc.tcp.split(':')[1]), '127.0.0.1').on('connect', () => (accepted = true)).on('close', () => resolve()).on('error', () => {}));
  assert.ok(accepted);

  // Both workers served part of it (one connection per request, spread by SO_REUSEPORT), so the
  // figures below are sums over two threads' tables, not one worker's.
  const stats = (await http('GET', `http://${sc.admin}/stats`)).body as { workers: { counters: Record<string, number>; cpuSeconds?: number }[] };
  const ends = stats.workers.map((w) => w.counters['proxy.phase.End'] ?? 0);
  assert.ok(ends.every((n) => n > 0), `both workers served requests: ${ends.join(', ')}`);
  assert.ok(stats.workers.every((w) => w.cpuSeconds !== undefined && w.cpuSeconds > 0), 'each worker reports its own CPU seconds');

  const res = await get(`http://${sc.admin}/metrics`);
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const m = res.body;
  const ok = 'listener="edge",route="vh/0",cluster="up"';
  assert.equal(sample(m, `ringside_requests_total{${ok},status="200"}`), requests);
  assert.equal(sample(m, `ringside_request_duration_seconds_count{${ok}}`), requests);
  assert.equal(sample(m, `ringside_request_duration_seconds_bucket{${ok},le="+Inf"}`), requests);
  const sum = sample(m, `ringside_request_duration_seconds_sum{${ok}}`)!;
  assert.ok(sum > 0 && sum < requests * 5, `latency sum ${sum}s`);
  assert.equal(sample(m, 'ringside_requests_total{listener="edge",route="vh/1",cluster="dead",status="503"}'), 1);
  assert.equal(sample(m, 'ringside_requests_total{listener="edge",route="",cluster="",status="404"}'), 1);
  assert.equal(sample(m, 'ringside_upstream_errors_total{cluster="dead",code="CONNECT_FAILED"}'), 1);
  assert.equal(sample(m, 'ringside_upstream_errors_total{cluster="tcp_dead",code="CONNECT_FAILED"}'), 2, 'both tcp_proxy connect attempts');
  assert.equal(sample(m, 'ringside_connections_total{listener="edge"}'), requests + 2);
  assert.equal(sample(m, 'ringside_upstream_requests_total{cluster="up"}'), requests);
  assert.equal(sample(m, 'ringside_upstream_connect_failures_total{cluster="dead"}'), 1);
  assert.equal(sample(m, 'ringside_upstream_hosts{cluster="up",health="healthy"}'), 1);
  assert.equal(sample(m, 'ringside_upstream_requests_active{cluster="up"}'), 0);
  assert.equal(sample(m, 'ringside_workers{state="up"}'), 2);
  for (const w of ['0', '1']) {
    const elu = sample(m, `ringside_worker_event_loop_utilization{worker="${w}"}`);
    assert.ok(elu !== undefined && elu >= 0 && elu <= 1, `worker ${w} ELU ${elu}`);
    assert.ok(sample(m, `ringside_worker_event_loop_active_seconds_total{worker="${w}"}`)! > 0);
    assert.ok(sample(m, `ringside_worker_cpu_seconds_total{worker="${w}"}`)! > 0, `worker ${w} CPU seconds`);
  }
  assert.ok(sample(m, 'ringside_actor_messages_total{kind="connection.read"}')! > 0);
  assert.ok(sample(m, 'ringside_actors_spawned_total{kind="connection.read"}')! >= requests + 2, 'a read-loop actor per downstream connection');
  assert.ok(sample(m, 'process_cpu_seconds_total')! > 0, 'process metrics from the main thread');
});

test('GET /api/v1/config_dump answers the running config with the API token redacted', async (t) => {
  const sc = await startProxySidecar(1, { dapr: { enabled: false, api_token: 'obs-s3cret-token' } });
  t.after(() => sc.close());
  const res = await get(`http://${sc.admin}/api/v1/config_dump`);
  assert.equal(res.status, 200);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.doesNotMatch(res.body, /obs-s3cret-token/);
  const dump = JSON.parse(res.body) as {
    servers: { listeners: { name: string }[] }[];
    cluster_manager: { clusters: { name: string }[] };
    ringside: { dapr: { api_token: string } };
  };
  assert.equal(dump.ringside.dapr.api_token, '[redacted]');
  assert.deepEqual(dump.servers[0]!.listeners.map((l) => l.name), ['edge', 'tcp']);
  assert.deepEqual(dump.cluster_manager.clusters.map((c) => c.name), ['up', 'dead', 'tcp_dead']);
});

test('a worker that crashed is left out of the scrape, which still answers, and counted once respawned', async (t) => {
  const sc = await startProxySidecar(2, {}, { RINGSIDE_TEST_HOOKS: '1' });
  t.after(() => sc.close());
  const crash = await http('POST', `http://${sc.admin}/test/crash?worker=1&mode=throw`);
  assert.equal(crash.status, 202);
  await sc.child.waitStderr(/worker\/1 crashed: /);
  const ups = new Set<number>();
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await get(`http://${sc.admin}/metrics`);
    assert.equal(res.status, 200, res.body);
    const up = sample(res.body, 'ringside_workers{state="up"}')!;
    ups.add(up);
    assert.equal(sample(res.body, 'ringside_workers{state="configured"}'), 2);
    if (sample(res.body, 'ringside_worker_respawns{worker="1"}') === 1 && up === 2) {
      assert.ok(sample(res.body, 'ringside_worker_event_loop_utilization{worker="1"}') !== undefined, 'the respawned worker reports again');
      break;
    }
    assert.ok(Date.now() < deadline, `worker 1 not back in the scrape: ${[...ups].join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok([...ups].every((n) => n === 1 || n === 2), `up counts seen: ${[...ups].join(', ')}`);
});
