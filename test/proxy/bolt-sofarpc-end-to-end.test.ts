/**
 * bolt through a real `ringside start` (one worker thread, listeners on port 0) between real SOFARPC
 * peers: a sofa-rpc-node client → Ringside's bolt proxy listener (and an Auto listener) → a
 * sofa-rpc-node server. Many concurrent calls, a 1 MiB argument, heartbeats answered by the
 * sidecar, an unknown service (NO_PROCESSOR), the request's own timeout field, bad bytes (codec
 * exception under the frame's id, then that connection closes, others carry on), and an upstream
 * that dies with calls in flight (each fails at once with CONNECTION_CLOSED).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { once } from 'node:events';
import { startChild } from '../supervisor/helpers.js';
import { boltCodec } from '../../src/protocol/bolt/codec.js';
import { BoltStatus } from '../../src/protocol/bolt/constants.js';
import { FrameReader } from '../../src/protocol/xprotocol/frame-reader.js';
import type { XFrame, XResponse } from '../../src/types/xprotocol.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const sofa = require('sofa-rpc-node') as any;
const sofaProtocol = require('sofa-bolt-node/lib/protocol') as {
  requestEncode(id: number, req: unknown, options: unknown): Buffer;
  heartbeatEncode(id: number, hb: unknown, options: unknown): Buffer;
};
const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const SERVICE = 'com.example.Calc';

function rawRequest(id: number, opts: { service?: string; method?: string; args?: unknown[]; timeout?: number } = {}): Buffer {
  return sofaProtocol.requestEncode(
    id,
    { serverSignature: `${opts.service ?? SERVICE}:1.0`, methodName: opts.method ?? 'plus', args: opts.args ?? [{ $class: 'int', $: 1 }, { $class: 'int', $: 2 }], timeout: opts.timeout ?? 3000, requestProps: {} },
    { protocolType: 'bolt', codecType: 'hessian2', boltVersion: 1 },
  );
}

/** A raw bolt connection: frames in, decoded responses out, and whether the peer closed. */
async function rawConnection(address: string) {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const socket = net.connect({ host, port });
  await once(socket, 'connect');
  const frames: XFrame[] = [];
  let closed = false;
  const waiters: (() => void)[] = [];
  const reader = new FrameReader(boltCodec, { maxHeaderBytes: 1 << 20, maxContentBytes: 8 << 20 }, { onFrame: (f) => frames.push(f), onDecodeError: (e) => assert.fail(e.error.message) });
  socket.on('data', (d: Buffer) => {
    reader.feed(d);
    for (const w of waiters.splice(0)) w();
  });
  socket.on('close', () => {
    closed = true;
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => {});
  const until = (cond: () => boolean, ms = 5000): Promise<void> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out')), ms);
      const check = (): void => {
        if (cond()) {
          clearTimeout(t);
          resolve();
        } else waiters.push(check);
      };
      check();
    });
  return { socket, frames, until, get closed() { return closed; } };
}

test('bolt proxy between sofa-rpc-node peers: calls, 1 MiB, heartbeats, no route, timeout field, bad bytes, upstream loss', async (t) => {
  const server = new sofa.server.RpcServer({ logger: quiet, port: 0 });
  let served = 0;
  const stalled: (() => void)[] = [];
  server.addService(
    { interfaceName: SERVICE },
    {
      async plus(a: number, b: number) {
        served++;
        return a + b;
      },
      async echo(s: string) {
        return s;
      },
      // Never answers until the test lets it (or the server goes away). sofa-rpc-node serves async functions only.
      async stall(_n: number) {
        return await new Promise<number>((resolve) => stalled.push(() => resolve(1)));
      },
    },
  );
  await server.start();
  const upstream = `127.0.0.1:${(server._servers[0].address() as net.AddressInfo).port}`;
  let serverClosed = false;
  t.after(async () => {
    for (const s of stalled) s();
    if (!serverClosed) await server.close();
  });

  // An upstream that accepts and never answers: only the sidecar's timeout can end a call to it.
  const held = new Set<net.Socket>();
  const blackHole = net.createServer((sock) => {
    held.add(sock);
    sock.on('error', () => {});
  }).listen(0, '127.0.0.1');
  await once(blackHole, 'listening');
  t.after(() => {
    for (const s of held) s.destroy();
    blackHole.close();
  });
  const voidAddress = `127.0.0.1:${(blackHole.address() as net.AddressInfo).port}`;

  const proxyConfig = (protocol: string) => ({ downstream_protocol: protocol, router_config_name: 'sofa' });
  const cfg = {
    servers: [
      {
        routers: [
          {
            router_config_name: 'sofa',
            virtual_hosts: [{ name: 'all', domains: ['*'], routers: [
                  { match: { headers: [{ name: 'service', value: `${SERVICE}:1.0` }] }, route: { cluster_name: 'calc' } },
                  { match: { headers: [{ name: 'service', value: 'com.example.Void:1.0' }] }, route: { cluster_name: 'void' } },
                ],
              },
            ],
          },
        ],
        listeners: [
          { name: 'bolt_in', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: proxyConfig('bolt') }] }] },
          { name: 'auto_in', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: proxyConfig('Auto') }] }] },
        ],
      },
    ],
    cluster_manager: {
      clusters: [
        { name: 'calc', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: upstream }] },
        { name: 'void', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: voidAddress }] },
      ],
    },
    ringside: { admin: { enabled: false }, drain_timeout: 1000 },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-bolt-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(cfg));
  const child = startChild(main, ['start', '-c', file, '--workers', '1']);
  t.after(() => child.kill());
  const ready = await child.waitStdout(/^ringside ready:/, 20_000);
  const addr = (name: string): string => new RegExp(`${name}@([^,\\s]+)`).exec(ready)![1]!;
  const boltIn = addr('bolt_in');
  const autoIn = addr('auto_in');

  const client = new sofa.client.RpcClient({ logger: quiet });
  // Not awaited: sofa-rpc-node's close waits for its connections' graceful end; the sidecar is killed anyway.
  t.after(() => void client.close());
  const consumer = client.createConsumer({ interfaceName: SERVICE, serverHost: boltIn, retryFaultInterval: 50 });
  await consumer.ready();

  // Many concurrent calls on one client connection, each answered under its own id.
  const sums = await Promise.all(Array.from({ length: 200 }, (_, i) => consumer.invoke('plus', [i + 1, i + 2], { responseTimeout: 5000 })));
  assert.deepEqual(sums, Array.from({ length: 200 }, (_, i) => 2 * i + 3));

  // A 1 MiB argument goes there and back whole.
  const big = 'ab'.repeat(512 * 1024);
  assert.equal(await consumer.invoke('echo', [big], { responseTimeout: 5000 }), big);

  // The Auto listener recognises bolt from its first bytes.
  const autoConsumer = client.createConsumer({ interfaceName: SERVICE, serverHost: autoIn, retryFaultInterval: 50 });
  await autoConsumer.ready();
  assert.equal(await autoConsumer.invoke('plus', [20, 22], { responseTimeout: 5000 }), 42);

  // An unknown service: no route → NO_PROCESSOR, marked as the sidecar's own error.
  const raw = await rawConnection(boltIn);
  raw.socket.write(rawRequest(7, { service: 'com.example.Missing' }));
  await raw.until(() => raw.frames.length === 1);
  const noRoute = raw.frames[0] as XResponse;
  assert.equal(noRoute.requestId, 7);
  assert.equal(noRoute.status, BoltStatus.NO_PROCESSOR);
  assert.equal(noRoute.headers.get('x-ringside-error'), 'NO_ROUTE');
  const missing = client.createConsumer({ interfaceName: 'com.example.Missing', serverHost: boltIn, retryFaultInterval: 50 });
  await missing.ready();
  await assert.rejects(missing.invoke('plus', [1, 2], { responseTimeout: 3000 }));

  // A heartbeat is answered by the sidecar itself: nothing reaches the service.
  const before = served;
  raw.socket.write(sofaProtocol.heartbeatEncode(8, {}, { protocolType: 'bolt', codecType: 'hessian2', boltVersion: 1 }));
  await raw.until(() => raw.frames.length === 2);
  const ack = raw.frames[1] as XResponse;
  assert.equal(ack.heartbeat, true);
  assert.equal(ack.requestId, 8);
  assert.equal(served, before);

  // The request's timeout field bounds the call: 150 ms → TIMEOUT from the sidecar.
  const started = Date.now();
  raw.socket.write(rawRequest(9, { service: 'com.example.Void', timeout: 150 }));
  await raw.until(() => raw.frames.length === 3);
  const timedOut = raw.frames[2] as XResponse;
  assert.equal(timedOut.requestId, 9);
  assert.equal(timedOut.status, BoltStatus.TIMEOUT);
  assert.ok(Date.now() - started < 2000, 'answered at the frame timeout, not the global one');

  // Bad bytes: a header map overrunning its frame is answered CODEC_EXCEPTION under its id and the
  // connection closes; a wrong magic just closes; a length past the limit likewise gets its status.
  const overrun = rawRequest(10);
  overrun.writeUInt32BE(60_000, 22 + overrun.readUInt16BE(14));
  raw.socket.write(overrun);
  await raw.until(() => raw.closed);
  const codecError = raw.frames[3] as XResponse;
  assert.equal(codecError.requestId, 10);
  assert.equal(codecError.status, BoltStatus.CODEC_EXCEPTION);

  const huge = await rawConnection(boltIn);
  const past = rawRequest(11);
  past.writeUInt32BE(0x7fff0000, 18);
  huge.socket.write(past.subarray(0, 22));
  await huge.until(() => huge.closed);
  assert.equal((huge.frames[0] as XResponse).status, BoltStatus.CODEC_EXCEPTION);
  assert.equal(huge.frames[0]!.requestId, 11);

  const garbage = await rawConnection(boltIn);
  garbage.socket.write(Buffer.from('\xde\xad\xbe\xef not bolt at all', 'latin1'));
  await garbage.until(() => garbage.closed);
  assert.equal(garbage.frames.length, 0);

  // The client connection that behaved is untouched.
  assert.equal(await consumer.invoke('plus', [2, 3], { responseTimeout: 5000 }), 5);

  // The upstream dies with calls in flight: each fails at once with CONNECTION_CLOSED.
  const inflight = await rawConnection(boltIn);
  for (let id = 100; id < 105; id++) inflight.socket.write(rawRequest(id, { method: 'stall', args: [{ $class: 'int', $: id }], timeout: 20_000 }));
  const deadline = Date.now() + 5000;
  while (stalled.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(stalled.length >= 5, `stalled calls reached the service (${stalled.length}) ${JSON.stringify(inflight.frames.map((f) => [f.requestId, (f as XResponse).status, f.content.toString("latin1").slice(0, 300)]))}`);
  const lost = Date.now();
  serverClosed = true;
  await server.close();
  await inflight.until(() => inflight.frames.length === 5);
  assert.ok(Date.now() - lost < 3000, 'failed at once, not at the 20 s timeout');
  for (const f of inflight.frames) assert.equal((f as XResponse).status, BoltStatus.CONNECTION_CLOSED);
  assert.deepEqual(inflight.frames.map((f) => f.requestId).sort(), [100, 101, 102, 103, 104]);
  inflight.socket.destroy();
});
