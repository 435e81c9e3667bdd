import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { http, lineClient, startChild, tryConnect } from '../supervisor/helpers.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;

function writeConfig(config: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-cli-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

function tcpProxyConfig(upstreamPort: number): unknown {
  return {
    servers: [
      {
        listeners: [
          {
            name: 'edge',
            address: '127.0.0.1:0',
            bind_port: true,
            filter_chains: [{ filters: [{ type: 'tcp_proxy', config: { cluster: 'echo' } }] }],
          },
        ],
      },
    ],
    cluster_manager: {
      clusters: [{ name: 'echo', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: `127.0.0.1:${upstreamPort}` }] }],
    },
    ringside: { admin: { address: '127.0.0.1:0' }, drain_timeout: 2000 },
  };
}

test('start with one TCP listener on port 0 and 2 workers prints one ready line with the bound address; the workers run with the configured heap limit', async (t) => {
  // An upstream that echoes lines back, so bytes through the listener prove it really accepts.
  const upstream = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.after(() => upstream.close());
  const base = tcpProxyConfig((upstream.address() as AddressInfo).port) as { ringside: object };
  // A young generation other than the prewarmed threads' default: both workers start fresh with it.
  const config = writeConfig({ ...base, ringside: { ...base.ringside, worker_heap: { max_young_generation_mb: 24 } } });

  const child = startChild(main, ['start', '-c', config, '--workers', '2']);
  t.after(() => child.kill());
  const ready = await child.waitStdout(/^ringside ready:/, 20_000);
  const m = /^ringside ready: workers=2 listeners=edge@(127\.0\.0\.1:(\d+))$/.exec(ready);
  assert.ok(m, `ready line: ${ready}`);
  assert.notEqual(Number(m[2]), 0);
  assert.equal(child.stdout().trim().split('\n').length, 1, 'exactly one line on stdout');

  const client = await lineClient(m[1]!);
  assert.equal(await client.ask('hello'), 'hello');
  client.socket.destroy();

  // Both workers bound that address: each reports the listener.
  const admin = /admin listening on ([^\s"]+)/.exec(child.stderr())![1]!;
  const stats = (await http('GET', `http://${admin}/stats`)).body as { workers: { listeners: { address: string }[]; maxYoungGenerationMb?: number }[] };
  assert.deepEqual(
    stats.workers.map((w) => w.listeners.map((l) => l.address)),
    [[m[1]], [m[1]]],
  );
  assert.deepEqual(
    stats.workers.map((w) => w.maxYoungGenerationMb),
    [24, 24],
  );
  child.proc.kill('SIGTERM');
  assert.equal((await child.exited).code, 0);
});

test('a malformed config exits 2 with the JSON path and reason, and starts nothing', async () => {
  const config = writeConfig({
    servers: [{ listeners: [{ name: 'bad', address: '127.0.0.1:99999', filter_chains: [{ filters: [{ type: 'tcp_proxy', config: { cluster: 'x' } }] }] }] }],
    ringside: { workers: 0 },
  });
  const child = startChild(main, ['start', '-c', config]);
  const { code } = await child.exited;
  assert.equal(code, 2);
  assert.match(child.stderr(), /servers\[0\]\.listeners\[0\]\.address: /);
  assert.match(child.stderr(), /ringside\.workers: /);
  assert.doesNotMatch(child.stderr(), /init → start/, 'no stage past init');
  assert.equal(child.stdout(), '');
});

test('bad --workers is a usage error (exit 2); --version and --help answer on stdout', async () => {
  const bad = startChild(main, ['start', '--workers', 'zero']);
  assert.equal((await bad.exited).code, 2);
  assert.match(bad.stderr(), /--workers/);
  const version = startChild(main, ['--version']);
  assert.equal((await version.exited).code, 0);
  assert.match(version.stdout(), /^ringside \d+\.\d+\.\d+/);
  const help = startChild(main, ['--help']);
  assert.equal((await help.exited).code, 0);
  assert.match(help.stdout(), /ringside start/);
});

test('a start failure other than config (the port is taken) exits 1 with the reason', async (t) => {
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  t.after(() => squatter.close());
  const port = (squatter.address() as AddressInfo).port;
  const cfg = tcpProxyConfig(1) as { servers: { listeners: { address: string }[] }[] };
  cfg.servers[0]!.listeners[0]!.address = `127.0.0.1:${port}`;
  const child = startChild(main, ['start', '-c', writeConfig(cfg), '--workers', '1']);
  t.after(() => child.kill());
  assert.equal((await child.exited).code, 1);
  assert.match(child.stderr(), /start failed: .*(EADDRINUSE|in use)/);
});

test('ringside.demo_upstream starts with the workers and answers GetUser through a tcp_proxy listener', async (t) => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const demoPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const cfg = tcpProxyConfig(demoPort) as { ringside: Record<string, unknown> };
  cfg.ringside['demo_upstream'] = { enabled: true, address: `127.0.0.1:${demoPort}` };
  const child = startChild(main, ['start', '-c', writeConfig(cfg), '--workers', '2']);
  t.after(() => child.kill());
  const ready = await child.waitStdout(/^ringside ready:/, 20_000);
  const edge = /edge@(\S+)/.exec(ready)![1]!;
  const body = JSON.stringify({ jsonrpc: '2.0', method: 'GetUser', params: ['A003'], id: 1 });
  const res = await fetch(`http://${edge}/`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 200);
  assert.match(await res.text(), /"name":"Moorse"/);
  child.proc.kill('SIGTERM');
  assert.equal((await child.exited).code, 0);
  assert.equal(await tryConnect(`127.0.0.1:${demoPort}`), 'ECONNREFUSED', 'the demo upstream closed with the drain');
});
