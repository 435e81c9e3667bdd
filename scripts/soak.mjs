#!/usr/bin/env node
// `npm run soak -- --minutes N [--connections C] [--inflight K] [--workers W]`: starts the default
// sidecar (`ringside start` without -c: the Layotto runtime API on 127.0.0.1:34904, the demo upstream)
// and drives InvokeService GetUser through it with C gRPC connections × K calls in flight (closed loop)
// for N minutes. Prints one JSON line per minute — requests, errors by kind, p50/p99/max latency and
// the sidecar's RSS — and a summary line. Uses the default ports: run it under the exclusive CPU lock
// (`flock -x /tmp/ringside-cpu.lock npm run soak -- --minutes 2`). Exit 1 when any call failed or the
// sidecar died.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { LAYOTTO_SERVICE, serviceDefinition } from '../dist/src/runtime/proto.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    connections: { type: 'string', default: '8' },
    inflight: { type: 'string', default: '4' },
    workers: { type: 'string', default: '2' },
  },
});
const positive = (name, v) => {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) {
    console.error(`--${name}: a positive number, got "${v}"`);
    process.exit(2);
  }
  return n;
};
const minutes = positive('minutes', values.minutes);
const connections = Math.round(positive('connections', values.connections));
const inflight = Math.round(positive('inflight', values.inflight));
const workers = Math.round(positive('workers', values.workers));

const main = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const child = spawn(process.execPath, [main, 'start', '--workers', String(workers)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RINGSIDE_LOG: 'warn' } });
let stderr = '';
child.stderr.on('data', (d) => (stderr = (stderr + d.toString()).slice(-20_000)));
let exited = null;
child.on('exit', (code, signal) => (exited = { code, signal }));
const ready = await new Promise((resolve, reject) => {
  let out = '';
  const t = setTimeout(() => reject(new Error(`sidecar not ready within 30 s:\n${stderr}`)), 30_000);
  child.stdout.on('data', (d) => {
    out += d.toString();
    const line = out.split('\n').find((l) => l.startsWith('ringside ready:'));
    if (line !== undefined) {
      clearTimeout(t);
      resolve(line);
    }
  });
  child.on('exit', () => reject(new Error(`sidecar exited before ready:\n${stderr}`)));
});
const grpcAddress = /grpc@([^,\s]+)/.exec(ready)?.[1] ?? '127.0.0.1:34904';

const rssMiB = () => {
  try {
    return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024);
  } catch {
    return null;
  }
};

const SERVICE = 'org.apache.dubbo.samples.UserProvider';
const CALL = Buffer.from('{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}');
const request = { id: SERVICE, message: { method: 'GetUser', data: { value: CALL }, http_extension: { verb: 3 } } };
const Runtime = grpc.makeGenericClientConstructor(serviceDefinition(LAYOTTO_SERVICE), 'Runtime');
const clients = Array.from({ length: connections }, (_, i) => new Runtime(grpcAddress, grpc.credentials.createInsecure(), { 'grpc.channel_id': i }));

let window = { latencies: [], errors: {} };
const totals = { requests: 0, errors: 0 };
let running = true;
const call = (client) =>
  new Promise((resolve) => {
    const t0 = performance.now();
    client.InvokeService(request, { deadline: Date.now() + 5000 }, (err, res) => {
      const ms = performance.now() - t0;
      totals.requests++;
      if (err) {
        totals.errors++;
        const k = grpc.status[err.code] ?? String(err.code);
        window.errors[k] = (window.errors[k] ?? 0) + 1;
      } else if (!Buffer.from(res.data.value).toString().includes('Moorse')) {
        totals.errors++;
        window.errors.WRONG_ANSWER = (window.errors.WRONG_ANSWER ?? 0) + 1;
      } else window.latencies.push(ms);
      resolve();
    });
  });
const loops = clients.flatMap((c) => Array.from({ length: inflight }, async () => {
  while (running) await call(c);
}));

const pct = (sorted, p) => (sorted.length === 0 ? null : Number(sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))].toFixed(2)));
const startRss = rssMiB();
const lines = [];
const started = Date.now();
const total = Math.ceil(minutes * 60_000);
for (let minute = 1; Date.now() - started < total && exited === null; minute++) {
  const span = Math.min(60_000, total - (Date.now() - started));
  await new Promise((r) => setTimeout(r, span));
  const w = window;
  window = { latencies: [], errors: {} };
  const sorted = w.latencies.sort((a, b) => a - b);
  const errors = Object.values(w.errors).reduce((a, b) => a + b, 0);
  const line = {
    minute,
    requests: sorted.length + errors,
    rps: Math.round((sorted.length + errors) / (span / 1000)),
    errors,
    errorKinds: w.errors,
    p50_ms: pct(sorted, 50),
    p99_ms: pct(sorted, 99),
    max_ms: sorted.length === 0 ? null : Number(sorted[sorted.length - 1].toFixed(2)),
    rss_mib: rssMiB(),
  };
  lines.push(line);
  console.log(JSON.stringify(line));
}
running = false;
await Promise.all(loops);
for (const c of clients) c.close();
const died = exited !== null;
if (!died) child.kill('SIGTERM');
await new Promise((r) => (exited !== null ? r() : child.on('exit', r)));
const rss = lines.map((l) => l.rss_mib).filter((v) => v !== null);
console.log(
  JSON.stringify({
    summary: true,
    minutes,
    connections,
    inflight,
    workers,
    requests: totals.requests,
    errors: totals.errors,
    rss_mib_start: startRss,
    rss_mib_min: Math.min(...rss),
    rss_mib_max: Math.max(...rss),
    p99_ms_worst_minute: Math.max(...lines.map((l) => l.p99_ms ?? 0)),
    sidecar_died: died,
    sidecar_exit: exited,
  }),
);
process.exit(totals.errors > 0 || died ? 1 : 0);
