/**
 * A real Prometheus server (the Debian `prometheus` package) scrapes a real `ringside start` and a
 * PromQL query over what it stored returns the number of requests sent through the proxy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, get, startProxySidecar } from './helpers.js';

const PROMETHEUS = process.env.RINGSIDE_PROMETHEUS ?? 'prometheus';

function prometheusMissing(): string | undefined {
  const r = spawnSync(PROMETHEUS, ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined) return `${PROMETHEUS} not found (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install it with apt-get install -y prometheus (CI does, in .ci/run)`;
  return undefined;
}

interface QueryResult {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(base: string, promql: string): Promise<QueryResult | undefined> {
  try {
    const res = await get(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
    return res.status === 200 ? (JSON.parse(res.body) as QueryResult) : undefined;
  } catch {
    return undefined; // not listening yet
  }
}

/** Polls `promql` until it returns one sample equal to `want` or the deadline passes; answers the last value seen. */
async function waitForValue(base: string, promql: string, want: number, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  while (Date.now() < deadline) {
    const r = await query(base, promql);
    last = r?.data.result[0]?.value[1];
    if (last !== undefined && Number(last) === want) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return last;
}

const missing = prometheusMissing();

test('Prometheus scrapes ringside start and PromQL returns the request count', { skip: missing }, async (t) => {
  const sc = await startProxySidecar(2);
  t.after(() => sc.close());
  const requests = 17;
  for (let i = 0; i < requests; i++) assert.equal((await get(`http://${sc.proxy}/ok/${i}`)).status, 200);

  const dir = mkdtempSync(join(tmpdir(), 'ringside-prometheus-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 500ms',
      '  scrape_timeout: 400ms',
      'scrape_configs:',
      '  - job_name: ringside',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ['${sc.admin}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const prom = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let promLog = '';
  prom.stderr!.on('data', (d: Buffer) => (promLog = (promLog + d.toString('utf8')).slice(-4000)));
  const promExited = new Promise<void>((r) => prom.once('exit', () => r()));
  t.after(async () => {
    if (prom.exitCode === null) prom.kill('SIGTERM');
    await promExited;
  });
  const base = `http://127.0.0.1:${port}`;

  const up = await waitForValue(base, 'up{job="ringside"}', 1, 20_000);
  assert.equal(up, '1', `Prometheus scraped the admin listener (up=${up}); prometheus log:\n${promLog}`);
  const promql = 'sum(ringside_requests_total{job="ringside",listener="edge",route="vh/0",cluster="up",status="200"})';
  const count = await waitForValue(base, promql, requests, 10_000);
  assert.equal(count, String(requests), `${promql} = ${count}`);

  // More traffic shows up in a later scrape: Prometheus reads the live aggregate, not a snapshot.
  for (let i = 0; i < 3; i++) await get(`http://${sc.proxy}/ok/more`);
  assert.equal(await waitForValue(base, promql, requests + 3, 10_000), String(requests + 3));
  const buckets = await query(base, 'sum(ringside_request_duration_seconds_count{job="ringside",route="vh/0"})');
  assert.equal(buckets?.data.result[0]?.value[1], String(requests + 3), 'the latency histogram counted every request');
});
