/**
 * The bolt listener's bounds and retries, on a data plane built in this thread (real sockets):
 * calls past ringside.limits.max_pending_requests are answered SERVER_THREADPOOL_BUSY at once under
 * their own id; and a route retry resends a call only when the upstream said it did not run it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startDataplane } from './harness.js';
import { boltCodec } from '../../src/protocol/bolt/codec.js';
import { BoltStatus } from '../../src/protocol/bolt/constants.js';
import { FrameReader } from '../../src/protocol/xprotocol/frame-reader.js';
import type { XFrame, XRequest, XResponse } from '../../src/types/xprotocol.js';

const limits = { maxHeaderBytes: 64 * 1024, maxContentBytes: 1 << 20 };

/** A bolt upstream answering each request with `answer(request, n)` (n counts requests), or never when it returns null. */
async function upstream(answer: (req: XRequest, n: number) => number | null) {
  let n = 0;
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    const reader = new FrameReader(boltCodec, limits, {
      onFrame: (f) => {
        if (f.kind !== 'request') return;
        const status = answer(f, ++n);
        if (status !== null) sock.write(boltCodec.encode(boltCodec.reply(f, status)));
      },
      onDecodeError: () => sock.destroy(),
    });
    sock.on('data', (d: Buffer) => reader.feed(d));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, count: () => n, close: () => server.close() };
}

async function client(address: string) {
  const i = address.lastIndexOf(':');
  const sock = net.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
  await once(sock, 'connect');
  const frames: XFrame[] = [];
  const reader = new FrameReader(boltCodec, limits, { onFrame: (f) => frames.push(f), onDecodeError: (e) => assert.fail(e.error.message) });
  sock.on('data', (d: Buffer) => reader.feed(d));
  const send = (id: number): void => {
    const req = boltCodec.newRequest('com.example.Calc:1.0', 'plus', {}, Buffer.from('x'), 5000);
    req.requestId = id;
    sock.write(boltCodec.encode(req));
  };
  const until = async (cond: () => boolean): Promise<void> => {
    const end = Date.now() + 3000;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { sock, frames, send, until };
}

function config(upstreamAddress: string, extra: { limits?: object; retry?: object } = {}) {
  return {
    servers: [
      {
        routers: [
          {
            router_config_name: 'r',
            virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { headers: [{ name: 'service', value: 'com.example.Calc:1.0' }] }, route: { cluster_name: 'c', ...(extra.retry ? { retry_policy: extra.retry } : {}) } }] }],
          },
        ],
        listeners: [{ name: 'bolt', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'bolt', router_config_name: 'r' } }] }] }],
      },
    ],
    cluster_manager: { clusters: [{ name: 'c', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: upstreamAddress }] }] },
    ...(extra.limits ? { ringside: { limits: extra.limits } } : {}),
  };
}

test('past max_pending_requests a call is answered SERVER_THREADPOOL_BUSY at once, under its own id', async (t) => {
  const up = await upstream(() => null); // holds every call
  t.after(up.close);
  const dp = await startDataplane(config(up.address, { limits: { max_pending_requests: 2 } }));
  t.after(() => dp.close());
  const c = await client(dp.addresses.get('bolt')!);
  t.after(() => c.sock.destroy());
  c.send(1);
  c.send(2);
  await new Promise((r) => setTimeout(r, 50));
  c.send(3);
  await c.until(() => c.frames.length === 1);
  const busy = c.frames[0] as XResponse;
  assert.equal(busy.requestId, 3);
  assert.equal(busy.status, BoltStatus.SERVER_THREADPOOL_BUSY);
  assert.equal(up.count(), 2);
});

test('a retry policy resends a call the upstream did not run (busy), never one it ran and failed', async (t) => {
  // First answer busy, then success: the call is resent once and succeeds.
  const flaky = await upstream((_req, n) => (n === 1 ? BoltStatus.SERVER_THREADPOOL_BUSY : BoltStatus.SUCCESS));
  t.after(flaky.close);
  const retry = { retry_on: true, num_retries: 2 };
  const dp = await startDataplane(config(flaky.address, { retry }));
  t.after(() => dp.close());
  const c = await client(dp.addresses.get('bolt')!);
  t.after(() => c.sock.destroy());
  c.send(41);
  await c.until(() => c.frames.length === 1);
  assert.equal((c.frames[0] as XResponse).status, BoltStatus.SUCCESS);
  assert.equal(flaky.count(), 2);

  // A server exception means the service ran: it is passed on, not retried.
  const failing = await upstream(() => BoltStatus.SERVER_EXCEPTION);
  t.after(failing.close);
  const dp2 = await startDataplane(config(failing.address, { retry }));
  t.after(() => dp2.close());
  const c2 = await client(dp2.addresses.get('bolt')!);
  t.after(() => c2.sock.destroy());
  c2.send(42);
  await c2.until(() => c2.frames.length === 1);
  assert.equal((c2.frames[0] as XResponse).status, BoltStatus.SERVER_EXCEPTION);
  assert.equal(failing.count(), 1);
});
