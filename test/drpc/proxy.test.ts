/**
 * The dRPC proxy through a real `ringside start`: a drpc:/path listener with the proxy filter
 * (downstream and upstream drpc) routes calls by their `module` header to two clusters of upstream
 * DomainSocketServers. Covered: routing, sequence numbers remapped per upstream connection and
 * restored for the caller, 300 KiB both ways, a Python client through the proxy, unknown module,
 * an upstream that hangs up mid-call, an upstream socket that does not exist, and garbage that
 * closes only its own session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startChild } from '../supervisor/helpers.js';
import { ClientConnection, DomainSocketServer, Module, Status, decodeRpcStatus, encodeCall, decodeResponse, toPackets } from '../../src/drpc/index.js';
import { RawPeer, script, tempDir } from './helpers.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const run = promisify(execFile);

function route(module: number, cluster: string) {
  return { match: { headers: [{ name: 'module', value: String(module) }] }, route: { cluster_name: cluster } };
}

test('the dRPC proxy routes by module to clusters of dRPC servers and answers its own errors as dRPC statuses', async (t) => {
  const dir = tempDir(t);
  const [front, upA, upB] = ['proxy.sock', 'a.sock', 'b.sock'].map((n) => join(dir, n)) as [string, string, string];
  const seenSequences: number[] = [];
  const a = new DomainSocketServer(upA);
  a.registerModule(
    new Module(20)
      .method(2001, (body, ctx) => {
        seenSequences.push(ctx.sequence);
        return Buffer.from(body).reverse();
      })
      // Hangs up on the proxy while the call waits: the proxy must fail the call at once.
      .method(2002, () => {
        setTimeout(() => a.closeSessions('test hangs up'), 20);
        return new Promise<Uint8Array>(() => {});
      }),
  );
  const b = new DomainSocketServer(upB);
  b.registerModule(new Module(30).method(3001, (body) => Buffer.concat([Buffer.from('b:'), body])));
  a.start();
  b.start();
  t.after(() => a.shutdown());
  t.after(() => b.shutdown());

  const cfg = {
    servers: [
      {
        routers: [{ router_config_name: 'drpc', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [route(20, 'A'), route(30, 'B'), route(40, 'gone')] }] }],
        listeners: [
          {
            name: 'drpc-proxy',
            address: `drpc:${front}`,
            socket_mode: '0660',
            filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'drpc', upstream_protocol: 'drpc', router_config_name: 'drpc' } }] }],
          },
        ],
      },
    ],
    cluster_manager: {
      clusters: [
        { name: 'A', hosts: [{ address: `drpc:${upA}` }] },
        { name: 'B', hosts: [{ address: `drpc:${upB}` }] },
        { name: 'gone', hosts: [{ address: `drpc:${join(dir, 'nobody.sock')}` }] },
      ],
    },
    ringside: { admin: { address: '127.0.0.1:0' }, demo_upstream: { enabled: false }, dapr: { enabled: false }, drain_timeout: 1000 },
  };
  const file = join(dir, 'proxy.json');
  writeFileSync(file, JSON.stringify(cfg));
  const child = startChild(main, ['start', '-c', file, '--workers', '1']);
  t.after(() => child.kill());
  await child.waitStdout(/^ringside ready:/, 20_000);
  assert.equal(statSync(front).mode & 0o777, 0o660, 'the listener socket_mode is applied');

  const client = new ClientConnection(front, { timeoutMs: 3000 });
  await client.connect();
  t.after(() => client.close());

  const r1 = await client.sendMsg({ module: 20, method: 2001, body: Buffer.from('abc') });
  assert.deepEqual([r1.sequence, r1.status, r1.body.toString()], [1, Status.SUCCESS, 'cba'], 'module 20 reaches cluster A');
  const r2 = await client.sendMsg({ module: 30, method: 3001, body: Buffer.from('xyz') });
  assert.deepEqual([r2.sequence, r2.status, r2.body.toString()], [2, Status.SUCCESS, 'b:xyz'], 'module 30 reaches cluster B');

  const big = Buffer.alloc(300 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;
  const r3 = await client.sendMsg({ module: 20, method: 2001, body: big });
  assert.equal(r3.status, Status.SUCCESS);
  assert.ok(r3.body.equals(Buffer.from(big).reverse()), '300 KiB each way through the proxy, in chunks');

  // A caller's own sequence numbers come back to it; upstream calls are numbered per upstream connection.
  const raw = new RawPeer(front);
  t.after(() => raw.close());
  raw.send(...toPackets(encodeCall({ module: 20, method: 2001, sequence: 777_000, body: Buffer.from('seq') })));
  await raw.until(() => raw.packets.length > 0, 3000, 'the answer to sequence 777000');
  const answer = decodeResponse(raw.packets[0]!.subarray(24));
  assert.deepEqual([answer.sequence, answer.status, answer.body.toString()], [777_000, Status.SUCCESS, 'qes']);
  assert.ok(seenSequences.length === 3 && seenSequences.every((s) => s >= 1 && s <= 3), `upstream sequences ${seenSequences.join(',')} are the proxy's own`);

  const unknown = await client.sendMsg({ module: 50, method: 5001 });
  assert.deepEqual([unknown.status, unknown.body.length], [Status.UNKNOWN_MODULE, 0], 'no route: UNKNOWN_MODULE');

  const missing = await client.sendMsg({ module: 40, method: 4001 });
  assert.equal(missing.status, Status.FAILURE, 'the upstream socket does not exist');
  const why = decodeRpcStatus(missing.body);
  assert.equal(why.code, 14, 'UNAVAILABLE');
  assert.match(why.message, /ENOENT/);

  const started = Date.now();
  const cut = await client.sendMsg({ module: 20, method: 2002 });
  assert.equal(cut.status, Status.FAILURE, 'an upstream that closes mid-call fails the call');
  assert.match(decodeRpcStatus(cut.body).message, /closed the connection mid-call/);
  assert.ok(Date.now() - started < 2500, 'at once, not at a timeout');

  // Garbage closes that session only; the first session and a Python client carry on.
  const bad = new RawPeer(front);
  bad.send(Buffer.from('not a dRPC chunk header'));
  await bad.until(() => bad.closed, 3000, 'the bad session to be closed');
  const after = await client.sendMsg({ module: 30, method: 3001, body: Buffer.from('ok') });
  assert.equal(after.body.toString(), 'b:ok');
  const py = JSON.parse((await run('python3', [script, 'client', front, '30', '3001', ''])).stdout) as { sequence: number; status: number; body_hex: string }[];
  assert.deepEqual(py.map((r) => [r.sequence, r.status, Buffer.from(r.body_hex, 'hex').toString()]), [[1, Status.SUCCESS, 'b:'], [2, Status.SUCCESS, 'b:']]);
});
