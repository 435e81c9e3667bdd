/**
 * dubbo through a real `ringside start` (one worker thread, listeners on port 0) between real Dubbo
 * peers: a sofa-rpc-node client speaking dubbo-remoting's protocol → Ringside's dubbo proxy listener
 * (and an Auto listener) → a sofa-rpc-node dubbo server. Many concurrent calls, a 1 MiB argument,
 * heartbeats answered by the sidecar, an unknown service (SERVICE_NOT_FOUND "404|router
 * unavailable", as MOSN answers), bad bytes (a wrong magic, a length past the limit: answered where
 * the id is known, then that connection closes, others carry on), and an upstream that dies with calls
 * in flight (each fails at once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { once } from 'node:events';
import { startChild } from '../supervisor/helpers.js';
import { dubboCodec } from '../../src/protocol/dubbo/codec.js';
import { DubboStatus } from '../../src/protocol/dubbo/constants.js';
import { decodeResult, encodeInvocation, heartbeatRequest, toJavaArgument } from '../../src/protocol/dubbo/index.js';
import { FrameReader } from '../../src/protocol/xprotocol/frame-reader.js';
import type { XFrame, XResponse } from '../../src/types/xprotocol.js';
import { dubboConsumer, startDubboServer } from '../runtime/sofa-dubbo.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;

function call(id: number, opts: { service?: string; method?: string; args?: unknown[]; descriptor?: string } = {}): Buffer {
  return encodeInvocation({
    id,
    twoWay: true,
    service: opts.service ?? 'com.example.Calc',
    version: '1.0.0',
    method: opts.method ?? 'plus',
    descriptor: opts.descriptor ?? 'II',
    args: opts.args ?? [toJavaArgument('int', 1), toJavaArgument('int', 2)],
    attachments: {},
  });
}

/** A raw dubbo connection: frames in, decoded frames out, and whether the peer closed. */
async function rawConnection(address: string) {
  const at = address.lastIndexOf(':');
  const socket = net.connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
  await once(socket, 'connect');
  const frames: XFrame[] = [];
  let closed = false;
  const waiters: (() => void)[] = [];
  const reader = new FrameReader(dubboCodec, { maxHeaderBytes: 1 << 20, maxContentBytes: 8 << 20 }, { onFrame: (f) => frames.push(f), onDecodeError: (e) => assert.fail(e.error.message) });
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  socket.on('data', (d: Buffer) => {
    reader.feed(d);
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('error', () => {});
  const until = (cond: () => boolean, ms = 5000): Promise<void> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out; frames ${JSON.stringify(frames.map((f) => f.requestId))}`)), ms);
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

const messageOf = (r: XResponse): unknown => decodeResult(r.status, r.content);

test('dubbo proxy between sofa-rpc-node dubbo peers: calls, 1 MiB, heartbeats, no route, bad bytes, upstream loss', async (t) => {
  const server = await startDubboServer();
  let serverClosed = false;
  t.after(async () => {
    if (!serverClosed) await server.close();
  });

  const proxyConfig = (protocol: string) => ({ downstream_protocol: protocol, router_config_name: 'dubbo' });
  const cfg = {
    servers: [
      {
        routers: [
          {
            router_config_name: 'dubbo',
            virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { headers: [{ name: 'service', value: 'com.example.Calc' }] }, route: { cluster_name: 'calc', timeout: '5s' } }] }],
          },
        ],
        listeners: [
          { name: 'dubbo_in', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: proxyConfig('dubbo') }] }] },
          { name: 'auto_in', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: { ...proxyConfig('X'), extend_config: { sub_protocol: 'dubbo' } } }] }] },
          { name: 'detect_in', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: proxyConfig('Auto') }] }] },
        ],
      },
    ],
    cluster_manager: { clusters: [{ name: 'calc', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: server.address }] }] },
    ringside: { admin: { enabled: false }, drain_timeout: 1000, limits: { max_body_bytes: 2 * 1024 * 1024 } },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-dubbo-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(cfg));
  const child = startChild(main, ['start', '-c', file, '--workers', '1']);
  t.after(() => child.kill());
  const ready = await child.waitStdout(/^ringside ready:/, 20_000);
  const addr = (name: string): string => new RegExp(`${name}@([^,\\s]+)`).exec(ready)![1]!;

  const consumer = await dubboConsumer(addr('dubbo_in'));
  t.after(() => void consumer.close());
  // Many concurrent calls on one client connection, each answered under its own id.
  const sums = await Promise.all(Array.from({ length: 200 }, (_, i) => consumer.invoke('plus', [i + 1, i + 2], { responseTimeout: 5000 })));
  assert.deepEqual(sums, Array.from({ length: 200 }, (_, i) => 2 * i + 3));
  // A 1 MiB argument goes there and back whole.
  const big = 'ab'.repeat(512 * 1024);
  assert.equal(await consumer.invoke('echo', [big], { responseTimeout: 5000 }), big);

  // MOSN's older spelling (X + sub_protocol) and Auto detection of the magic 0xdabb.
  for (const name of ['auto_in', 'detect_in']) {
    const other = await dubboConsumer(addr(name));
    assert.equal(await other.invoke('plus', [20, 22], { responseTimeout: 5000 }), 42, name);
    void other.close();
  }

  // An unknown service: no route → SERVICE_NOT_FOUND with MOSN's message; a heartbeat is answered
  // by the sidecar (nothing reaches the service).
  const raw = await rawConnection(addr('dubbo_in'));
  raw.socket.write(call(7, { service: 'com.example.Missing' }));
  await raw.until(() => raw.frames.length === 1);
  const noRoute = raw.frames[0] as XResponse;
  assert.equal(noRoute.requestId, 7);
  assert.equal(noRoute.status, DubboStatus.SERVICE_NOT_FOUND);
  assert.deepEqual(messageOf(noRoute), { kind: 'error', status: 60, message: '404|router unavailable' });
  const before = server.calls.get('plus') ?? 0;
  raw.socket.write(heartbeatRequest(8));
  await raw.until(() => raw.frames.length === 2);
  assert.equal((raw.frames[1] as XResponse).heartbeat, true);
  assert.equal(raw.frames[1]!.requestId, 8);
  assert.equal(server.calls.get('plus') ?? 0, before);
  // Ids beyond 2^32 come back exactly.
  raw.socket.write(call(2 ** 40 + 5));
  await raw.until(() => raw.frames.length === 3);
  assert.equal(raw.frames[2]!.requestId, 2 ** 40 + 5);
  assert.deepEqual(messageOf(raw.frames[2] as XResponse), { kind: 'value', value: 3, attachments: {} });

  // A length past the limit: BAD_REQUEST under its id, then the connection closes.
  const past = call(11);
  past.writeUInt32BE(3 * 1024 * 1024, 12);
  raw.socket.write(past.subarray(0, 16));
  await raw.until(() => raw.closed);
  const tooLong = raw.frames[3] as XResponse;
  assert.equal(tooLong.requestId, 11);
  assert.equal(tooLong.status, DubboStatus.BAD_REQUEST);
  assert.deepEqual(messageOf(tooLong), { kind: 'error', status: 40, message: '509|limit exceeded' });

  // A wrong magic just closes that connection.
  const garbage = await rawConnection(addr('dubbo_in'));
  garbage.socket.write(Buffer.from('\xde\xad\xbe\xef not dubbo at all', 'latin1'));
  await garbage.until(() => garbage.closed);
  assert.equal(garbage.frames.length, 0);

  // The client connection that behaved is untouched.
  assert.equal(await consumer.invoke('plus', [2, 3], { responseTimeout: 5000 }), 5);

  // The upstream dies with calls in flight: each fails at once, not at the 5 s route timeout.
  const inflight = await rawConnection(addr('dubbo_in'));
  for (let id = 100; id < 105; id++) inflight.socket.write(call(id, { method: 'sleep', descriptor: 'I', args: [toJavaArgument('int', 20_000)] }));
  const deadline = Date.now() + 5000;
  while ((server.calls.get('sleep') ?? 0) < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.calls.get('sleep'), 5);
  const lost = Date.now();
  serverClosed = true;
  void server.close();
  await inflight.until(() => inflight.frames.length === 5);
  assert.ok(Date.now() - lost < 3000, 'failed at once, not at the route timeout');
  for (const f of inflight.frames) assert.equal((f as XResponse).status, DubboStatus.SERVICE_NOT_FOUND);
  assert.deepEqual(inflight.frames.map((f) => f.requestId).sort(), [100, 101, 102, 103, 104]);
  inflight.socket.destroy();
});
