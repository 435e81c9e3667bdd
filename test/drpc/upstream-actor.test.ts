/**
 * The dRPC upstream client's side of the phase machine is an `upstream.phase` actor per connection.
 * A receiver with a bug makes the actor throw while it delivers an answer: the call in flight fails
 * with UPSTREAM_RESET (which the proxy answers as a dRPC status), the connection is closed (the
 * upstream sees its session end), the pool forgets it and drains, the crash is counted once, and the
 * next call on a new connection carries on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { threadRunLoop } from '../../src/actor/run-loop.js';
import { DomainSocketServer, Module } from '../../src/drpc/index.js';
import { callFrame, isReplyFrame } from '../../src/protocol/drpc/frames.js';
import { DrpcClientFactory } from '../../src/stream/drpc/client.js';
import { ClusterCircuitBreaker } from '../../src/upstream/circuit-breaker.js';
import { UpstreamHost } from '../../src/upstream/host.js';
import { HostConnectionPool } from '../../src/upstream/pool.js';
import type { RingsideError } from '../../src/common/errors.js';
import type { StreamClient, UpstreamResponseReceiver } from '../../src/types/proxy.js';
import { host as hostConfig } from '../fixtures/config-shapes.js';
import { tempDir } from './helpers.js';

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('upstream.phase (dRPC): a receiver that throws fails its call, closes the connection once, the pool forgets it; the next connection carries on', async (t) => {
  const path = join(tempDir(t), 'up.sock');
  const server = new DomainSocketServer(path);
  server.registerModule(new Module(7).method(701, (body) => Buffer.concat([Buffer.from('ok:'), body])));
  server.start();
  t.after(() => server.shutdown());

  const loop = threadRunLoop();
  const phase = () => loop.stats().kinds['upstream.phase'] ?? { crashes: 0, live: 0 };
  const crashesBefore = phase().crashes;
  const liveBefore = phase().live;
  const host = new UpstreamHost('c', hostConfig({ address: `drpc:${path}` }), 'hosts[0]');
  const pool = new HostConnectionPool(host, { factory: new DrpcClientFactory({ maxMessageBytes: 1 << 20 }), breaker: new ClusterCircuitBreaker('c', {}) });

  const call = (buggy: boolean, sequence: number): Promise<{ body?: string; err?: RingsideError; heads: number }> =>
    new Promise((resolve, reject) => {
      pool.acquire({
        onPoolFailure: reject,
        onPoolReady(client) {
          let heads = 0;
          const receiver: UpstreamResponseReceiver = {
            onUpstreamHead(head) {
              heads++;
              if (buggy) throw new Error('receiver bug on the answer');
              resolve({ body: isReplyFrame(head) ? Buffer.from(head.body).toString() : 'not a dRPC reply', heads });
            },
            onUpstreamData() {},
            onUpstreamTrailers() {},
            onUpstreamError: (err) => resolve({ err, heads }),
          };
          (client as StreamClient).newStream(receiver).sendHead(callFrame(7, 701, sequence, Buffer.from(`call${sequence}`)), null, true);
        },
      });
    });

  const crashed = await call(true, 41);
  assert.equal(crashed.heads, 1, 'the answer reached the receiver, which threw on it');
  assert.equal(crashed.err?.code, 'UPSTREAM_RESET', 'the call in flight fails instead of being lost');
  assert.match(crashed.err!.message, /upstream client crashed: receiver bug on the answer/);
  assert.equal(crashed.err!.retryable, false, 'the call reached the upstream: not retried');
  await until(() => pool.stats().connections === 0);
  assert.equal(host.stats.activeConnections, 0, 'the pool forgot the crashed connection');
  await until(() => server.stats().activeSessions === 0);
  assert.equal(phase().crashes - crashesBefore, 1, 'counted once');

  const next = await call(false, 42);
  assert.deepEqual(next, { body: 'ok:call42', heads: 1 }, 'a new connection carries on');
  assert.equal(server.stats().totalSessions, 2);
  assert.equal(phase().crashes - crashesBefore, 1);

  const drained = await Promise.race([pool.drain().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
  assert.ok(drained, 'the pool drains: nothing waits on the crashed connection');
  await until(() => phase().live === liveBefore);
});
