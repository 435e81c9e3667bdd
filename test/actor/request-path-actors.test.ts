/**
 * The request path as actors, seen from outside: a real `ringside start` (embedded default config,
 * one worker) serves Layotto InvokeService calls — grpc filter → invoker → channel connection over a
 * RingPipe → in-process egress listener → proxy → HTTP/1.1 upstream client → the demo upstream — and
 * GET /stats lists, per actor kind on that path, live actors, messages, queued deliveries, turns,
 * crashes and dead letters, and they moved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { startChild, http } from '../supervisor/helpers.js';
import { LAYOTTO_SERVICE, serviceDefinition } from '../../src/runtime/proto.js';
import { defaultConfigJson } from '../../src/config/default.js';
import type { ActorKindStats } from '../../src/types/actor.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const CALL = '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}';

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('a real proxy run shows every request-path actor kind in /stats, with messages and turns that moved', async (t) => {
  const [grpcPort, demo, admin] = [await freePort(), await freePort(), await freePort()];
  const cfg = JSON.parse(JSON.stringify(defaultConfigJson)) as {
    servers: { listeners: { name: string; address: string }[] }[];
    cluster_manager: { clusters: { hosts: { address: string }[] }[] };
    ringside: Record<string, unknown>;
  };
  cfg.servers[0]!.listeners.find((l) => l.name === 'grpc')!.address = `127.0.0.1:${grpcPort}`;
  cfg.cluster_manager.clusters[0]!.hosts[0]!.address = `127.0.0.1:${demo}`;
  cfg.ringside = { ...cfg.ringside, admin: { address: `127.0.0.1:${admin}` }, demo_upstream: { enabled: true, address: `127.0.0.1:${demo}` }, dapr: { enabled: false }, drain_timeout: 2000 };
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-actors-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(cfg));
  const child = startChild(main, ['start', '-c', file, '--workers', '1']);
  t.after(() => child.kill());
  await child.waitStdout(/^ringside ready:/, 20_000);

  const Runtime = grpc.makeGenericClientConstructor(serviceDefinition(LAYOTTO_SERVICE), 'Runtime');
  const client = new Runtime(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
  type Unary = (r: object, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { data: { value: Uint8Array } }) => void) => void;
  const invoke = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const request = { id: 'org.apache.dubbo.samples.UserProvider', message: { method: 'GetUser', data: { value: Buffer.from(CALL) }, http_extension: { verb: 3 } } };
      (client as unknown as Record<string, Unary>)['InvokeService']!.call(client, request, { deadline: Date.now() + 5000 }, (err, res) =>
        err ? reject(err) : resolve(Buffer.from(res!.data.value).toString()),
      );
    });
  const calls = 40;
  // Concurrent calls, so channel connections are busy at once and some deliveries queue.
  const answers = await Promise.all(Array.from({ length: calls }, () => invoke()));
  client.close();
  for (const a of answers) assert.match(a, /"name":"Moorse"/);

  const stats = (await http('GET', `http://127.0.0.1:${admin}/stats`)).body as { total: { actors: Record<string, ActorKindStats> } };
  const kinds = stats.total.actors;
  for (const kind of ['connection.read', 'connection.write', 'upstream.phase', 'ring.pump', 'proxy.downstream']) {
    const k = kinds[kind];
    assert.ok(k !== undefined, `kind ${kind} is listed (have: ${Object.keys(kinds).join(', ')})`);
    for (const field of ['live', 'spawned', 'messages', 'queued', 'turns', 'crashes', 'deadLetters'] as const) assert.equal(typeof k[field], 'number', `${kind}.${field}`);
    // A request's phase machine stops with its request; connections and their pumps stay pooled.
    if (kind === 'proxy.downstream') assert.ok(k.spawned >= calls && k.live === 0, `${kind}: one per request (${JSON.stringify(k)})`);
    else assert.ok(k.spawned > 0 && k.live > 0, `${kind}: actors alive (${JSON.stringify(k)})`);
    assert.ok(k.messages >= calls, `${kind}: at least one message per call (${JSON.stringify(k)})`);
    assert.ok(k.turns > 0, `${kind}: turns moved (${JSON.stringify(k)})`);
    assert.equal(k.crashes, 0, `${kind}: no crash`);
  }
  // The ring pump is never run on a teller's stack: every message to it went through its mailbox.
  assert.equal(kinds['ring.pump']!.queued, kinds['ring.pump']!.messages);
});
