import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { defaultConfigJson } from '../../src/config/default.js';
import { parseReadyLine, processCpuSeconds } from '../../src/loadgen/tune/sidecar.js';
import { deriveTarget } from '../../src/loadgen/tune/target.js';
import { fixturePath, runCli } from './fixtures/servers.js';

const fake = fileURLToPath(new URL('./fixtures/fake-sidecar.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ringside-tune-target-'));
const DEFAULT_READY =
  'ringside ready: workers=2 listeners=grpc@127.0.0.1:34904,egress_runtime_http@egress_runtime_http,dapr_grpc@127.0.0.1:50001,dapr_http@127.0.0.1:3500';

describe('tune target and sidecar bookkeeping', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('targets the Dapr HTTP invoke URL of the demo call on the embedded default config', () => {
    const ready = parseReadyLine(DEFAULT_READY);
    assert.equal(ready?.workers, 2);
    // The only HTTP1 proxy listener of the default config is in-process: no URL reaches it.
    const t = deriveTarget(defaultConfigJson, ready!.listeners);
    assert.equal(t.url, 'http://127.0.0.1:3500/v1.0/invoke/org.apache.dubbo.samples.UserProvider/method/GetUser');
    assert.equal(t.method, 'POST');
    assert.match(t.body ?? '', /"method":"GetUser"/);
    // Before the sidecar is up (no ready line yet) the config alone gives the same address.
    assert.equal(deriveTarget(defaultConfigJson, new Map()).url, t.url);
  });

  it('says there is no target when the config has neither an HTTP1 proxy on TCP nor the Dapr API', () => {
    const config = { servers: [{ listeners: [{ name: 'grpc', address: '127.0.0.1:34904', filter_chains: [{ filters: [{ type: 'grpc' }] }] }] }] };
    assert.throws(() => deriveTarget(config, new Map()), /no load target in the config.*give --target URL/);
  });

  it('counts the CPU of threads that already exited', async () => {
    const before = processCpuSeconds(process.pid);
    // The thread spins until its own CPU time (not wall time: the machine is shared) reaches 0.3 s.
    const w = new Worker(
      `const { readFileSync } = require('node:fs');
       const ticks = () => { const f = readFileSync('/proc/thread-self/stat', 'latin1'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return Number(x[11]) + Number(x[12]); };
       const end = Date.now() + 20000;
       while (ticks() < 30 && Date.now() < end) for (let i = 0; i < 1e5; i++);`,
      { eval: true },
    );
    await new Promise((resolve) => w.once('exit', resolve));
    const spent = processCpuSeconds(process.pid) - before;
    assert.ok(spent >= 0.28, `CPU counted for a thread that spent 0.3 s and exited: ${spent} s`);
  });

  it('refuses to measure when the target port already answers before the sidecar starts', async () => {
    // Stands in for a sidecar left over from another run: with SO_REUSEPORT the new one would share the port.
    const squatter = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const cfg = JSON.parse(readFileSync(fixturePath('fake-sidecar.json'), 'utf8')) as { servers: { listeners: { address: string }[] }[] };
      cfg.servers[0]!.listeners[0]!.address = `127.0.0.1:${port}`;
      const file = join(dir, 'taken.json');
      writeFileSync(file, JSON.stringify(cfg));
      const r = await runCli(['tune', '-c', file, '--sidecar', fake, '--workers', '1', '--duration', '300ms', '--warmup', '0']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr.trim(), new RegExp(`^ringside tune: 127\\.0\\.0\\.1:${port} already accepts connections before the 1-worker sidecar started`));
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
