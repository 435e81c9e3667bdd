/**
 * The scheduler decides after the dial: one gRPC client connection (all its calls land on the worker
 * that accepted it) keeps that worker saturated — its loop busy and calls queued behind its channel
 * pool; the pool then retires connections and the re-dials are placed on the idle worker, so the
 * egress proxy work of later calls runs there. Every answer stays correct while connections move.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { http, startChild } from '../supervisor/helpers.js';
import { LAYOTTO_SERVICE, serviceDefinition } from '../../src/runtime/proto.js';
import { defaultConfigJson } from '../../src/config/default.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const SERVICE = 'org.apache.dubbo.samples.UserProvider';
const CALL = '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}';
const ANSWER = '{"jsonrpc":"2.0","id":9527,"result":{"id":"113","name":"Moorse","age":30,"time":703394193,"sex":"MAN"}}';

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Stats {
  workers: { workerIndex: number; counters: Record<string, number>; listeners: { name: string; totalConnections: number; activeConnections: number }[] }[];
}

test('a saturated worker sheds its channel connections to the idle worker; every answer is correct', { timeout: 60_000 }, async (t) => {
  const [grpcPort, demo] = [await freePort(), await freePort()];
  const cfg = JSON.parse(JSON.stringify(defaultConfigJson)) as {
    servers: { listeners: { name: string; address: string }[] }[];
    cluster_manager: { clusters: { hosts: { address: string }[] }[] };
    ringside: Record<string, unknown>;
  };
  cfg.servers[0]!.listeners.find((l) => l.name === 'grpc')!.address = `127.0.0.1:${grpcPort}`;
  cfg.cluster_manager.clusters[0]!.hosts[0]!.address = `127.0.0.1:${demo}`;
  cfg.ringside = {
    ...cfg.ringside,
    admin: { address: '127.0.0.1:0' },
    demo_upstream: { enabled: true, address: `127.0.0.1:${demo}` },
    dapr: { enabled: false },
    drain_timeout: 2000,
    // The test's own grpc-js client shares this 2-core machine with both workers, so how busy the
    // loaded worker's loop reads depends on the machine. 64 calls over the channel pool of 16 keep
    // ~48 calls waiting (the backlog signal); with the threshold at 0.5 that saturates the worker as
    // soon as its loop is past the idle line, 0.25, on an idle machine and on a crowded one alike.
    scheduler: { saturation_threshold: 0.5 },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-sched-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(cfg));
  const child = startChild(main, ['start', '-c', file, '--workers', '2']);
  t.after(() => child.kill());
  await child.waitStdout(/^ringside ready:/, 20_000);
  const admin = /admin listening on ([^\s"]+)/.exec(child.stderr())![1]!;
  const stats = async (): Promise<Stats> => (await http('GET', `http://${admin}/stats`)).body as Stats;

  // One client, one HTTP/2 connection: every call lands on one worker.
  const Runtime = grpc.makeGenericClientConstructor(serviceDefinition(LAYOTTO_SERVICE), 'Runtime');
  const client = new Runtime(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
  t.after(() => client.close());
  type Unary = (r: object, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { data: { value: Uint8Array } }) => void) => void;
  const invoke = (client as unknown as Record<string, Unary>)['InvokeService']!.bind(client);
  const request = { id: SERVICE, message: { method: 'GetUser', data: { value: Buffer.from(CALL) }, http_extension: { verb: 3 } } };
  let ok = 0;
  const wrong: string[] = [];
  let running = true;
  const lane = async (): Promise<void> => {
    while (running) {
      const answer = await new Promise<string>((resolve) =>
        invoke(request, { deadline: Date.now() + 10_000 }, (err, res) => resolve(err ? `error: ${err.message}` : Buffer.from(res!.data.value).toString())),
      );
      if (answer === ANSWER) ok++;
      else if (wrong.length < 5) wrong.push(answer);
    }
  };
  const lanes = Array.from({ length: 64 }, lane);
  const sum = (st: Stats, key: string): number => st.workers.reduce((n, w) => n + (w.counters[key] ?? 0), 0);
  const proxied = (w: Stats['workers'][number]): number => w.counters['proxy.phase.UpRecvHeader'] ?? 0;

  // No timing assumption: poll until the loaded worker has re-placed a connection and the worker
  // that accepted it has proxied calls over it; then until it has proxied 200 more (answers that
  // came back across the move). The deadline only bounds a broken build.
  const deadline = Date.now() + 45_000;
  let snapshot: Stats = await stats();
  let target: number | undefined;
  let proxiedAtMove = 0;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    snapshot = await stats();
    const accepting = snapshot.workers.find((w) => (w.counters['mesh.pipe_accepted'] ?? 0) > 0 && proxied(w) > 0);
    if (target === undefined && sum(snapshot, 'scheduler.moved') > 0 && accepting !== undefined) {
      target = accepting.workerIndex;
      proxiedAtMove = proxied(accepting);
    }
    if (target !== undefined && proxied(snapshot.workers.find((w) => w.workerIndex === target)!) >= proxiedAtMove + 200) break;
  }
  running = false;
  await Promise.all(lanes);

  const detail = JSON.stringify(snapshot.workers.map((w) => w.counters));
  assert.deepEqual(wrong, [], 'every answer is the demo answer');
  assert.ok(sum(snapshot, 'scheduler.moved') > 0, `scheduler.moved = 0; stats: ${detail}`);
  assert.ok(sum(snapshot, 'scheduler.retired') > 0, 'connections were retired to be re-placed');
  assert.notEqual(target, undefined, `no worker accepted a re-dialed channel connection; stats: ${detail}`);
  const moved = snapshot.workers.find((w) => w.workerIndex === target)!;
  assert.ok(proxied(moved) >= proxiedAtMove + 200, `worker ${target} proxied ${proxied(moved) - proxiedAtMove} calls after the move; stats: ${detail}`);
  // The worker that accepted the pipes holds no gRPC connection: its egress work is the other one's.
  assert.equal(moved.listeners.find((l) => l.name === 'grpc')?.totalConnections ?? 0, 0);
  assert.ok(ok > 200, `${ok} answers`);
});
