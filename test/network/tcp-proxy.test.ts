/**
 * tcp_proxy end to end through a real upstream: bytes both ways, half-close carried across, a large
 * transfer with backpressure intact, and an upstream that refuses closes the downstream. A session's
 * upstream side is an `upstream.phase` actor: one that throws closes both of its connections, is
 * counted once, and the listener's other sessions carry on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { ActorRunLoop } from '../../src/actor/run-loop.js';
import { TcpListener } from '../../src/network/listeners/tcp-listener.js';
import { tcpProxyFactory } from '../../src/network/filters/tcp-proxy.js';
import type { TcpProxyClusterManager } from '../../src/network/filters/tcp-proxy.js';
import { snapshotCounters } from '../../src/common/counters.js';
import { readUntilClose, waitFor } from './helpers.js';

class StubClusters implements TcpProxyClusterManager {
  constructor(readonly hosts: Record<string, { host: string; port: number } | undefined>) {}
  chooseHost(cluster: string): { address: string; host: string; port: number } | undefined {
    const h = this.hosts[cluster];
    return h === undefined ? undefined : { ...h, address: `${h.host}:${h.port}` };
  }
}

async function proxy(clusters: TcpProxyClusterManager, config: unknown, runLoop = new ActorRunLoop()): Promise<TcpListener> {
  const install = tcpProxyFactory.create(config, 'filters[0].config', {
    workerIndex: 0,
    listenerName: 'l4',
    services: { clusterManager: clusters, runLoop },
  });
  const l = new TcpListener({ name: 'l4', address: '127.0.0.1:0', host: '127.0.0.1', port: 0, runLoop, filterChain: [install] });
  await l.start();
  return l;
}

/** An upstream that answers "up:" + what it read once its peer half-closes, then ends. */
async function upstream(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.endsWith('\n')) s.write(`echo:${got}`);
    });
    s.on('end', () => s.end(`up:${got.length}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port };
}

test('bytes travel both ways and a client half-close reaches the upstream, whose answer comes back', async () => {
  const up = await upstream();
  const l = await proxy(new StubClusters({ backend: { host: '127.0.0.1', port: up.port } }), { cluster: 'backend' });
  const c = net.connect({ port: l.port, host: '127.0.0.1', allowHalfOpen: true });
  const all = readUntilClose(c);
  c.write('ping\n');
  const [first] = (await once(c, 'data')) as [Buffer];
  assert.equal(first.toString(), 'echo:ping\n');
  c.end(); // half-close: the upstream sees end, answers, and ends in turn
  assert.equal(await all, 'echo:ping\nup:5');
  await waitFor(() => l.stats().activeConnections === 0);
  await l.stopAccepting();
  up.server.close();
});

test('a 16 MiB upload passes intact through the proxy (backpressure, no loss)', async () => {
  const total = 16 * 1024 * 1024;
  let received = 0;
  const hash = createHash('sha256');
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (d: Buffer) => {
      received += d.length;
      hash.update(d);
    });
    s.on('end', () => s.end(`${received}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const l = await proxy(new StubClusters({ b: { host: '127.0.0.1', port } }), { cluster: 'b' });
  const c = net.connect({ port: l.port, host: '127.0.0.1', allowHalfOpen: true });
  const answer = readUntilClose(c);
  const block = Buffer.alloc(64 * 1024);
  const expected = createHash('sha256');
  for (let off = 0; off < total; off += block.length) {
    block.fill(off / block.length);
    expected.update(block);
    if (!c.write(Buffer.from(block))) await once(c, 'drain');
  }
  c.end();
  assert.equal(await answer, `${total}`);
  assert.equal(hash.digest('hex'), expected.digest('hex'));
  await l.stopAccepting();
  server.close();
});

test('an upstream refusing the connection closes the downstream; no host closes it too', async () => {
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = (dead.address() as net.AddressInfo).port;
  dead.close(); // nothing listens there now: ECONNREFUSED
  const l = await proxy(new StubClusters({ gone: { host: '127.0.0.1', port: deadPort }, empty: undefined }), {
    cluster: 'gone',
    routes: [{ cluster: 'empty', source_addrs: [{ address: '10.0.0.0', length: 8 }] }],
  });
  const c = net.connect({ port: l.port, host: '127.0.0.1' });
  c.on('connect', () => c.write('anyone?'));
  assert.equal(await readUntilClose(c), '');
  await waitFor(() => l.stats().activeConnections === 0);
  await l.stopAccepting();

  const l2 = await proxy(new StubClusters({}), { cluster: 'nowhere' });
  const c2 = net.connect({ port: l2.port, host: '127.0.0.1' });
  assert.equal(await readUntilClose(c2), '');
  await l2.stopAccepting();
});

test('supervision: a session whose upstream.phase actor throws closes both its connections once; the next session carries on', async () => {
  const up = await upstream();
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = (dead.address() as net.AddressInfo).port;
  dead.close(); // ECONNREFUSED: the first attempt fails and the actor asks for another host
  let picks = 0;
  /** A cluster manager with a bug: the retry's host choice throws (inside the session's actor). */
  const buggy: TcpProxyClusterManager = {
    chooseHost() {
      picks++;
      if (picks === 1) return { address: `127.0.0.1:${deadPort}`, host: '127.0.0.1', port: deadPort };
      if (picks === 2) throw new Error('cluster manager bug');
      return { address: `127.0.0.1:${up.port}`, host: '127.0.0.1', port: up.port };
    },
  };
  const runLoop = new ActorRunLoop();
  const crashCounter = (): number => snapshotCounters()['tcp_proxy.session_crashes'] ?? 0;
  const countedBefore = crashCounter();
  const l = await proxy(buggy, { cluster: 'b', max_connect_attempts: 2 }, runLoop);
  const c = net.connect({ port: l.port, host: '127.0.0.1' });
  const closed = readUntilClose(c);
  const answer = await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('still open after 3 s'), 3000))]);
  assert.equal(answer, '', 'the downstream of the crashed session is closed');
  assert.equal(picks, 2);
  const phase = runLoop.stats().kinds['upstream.phase']!;
  assert.equal(phase.crashes, 1, 'the crash is counted once under upstream.phase');
  assert.equal(crashCounter() - countedBefore, 1);
  await waitFor(() => l.stats().activeConnections === 0);

  const c2 = net.connect({ port: l.port, host: '127.0.0.1', allowHalfOpen: true });
  const all = readUntilClose(c2);
  c2.end('next\n');
  assert.equal(await all, 'echo:next\nup:5', 'the next session carries on');
  await waitFor(() => runLoop.stats().kinds['upstream.phase']!.live === 0);
  assert.equal(runLoop.stats().kinds['upstream.phase']!.crashes, 1);
  await l.stopAccepting();
  up.server.close();
});

test('tcp_proxy config errors name the JSON path', () => {
  // Config errors are thrown before the factory looks at its deps.
  const ctx = { workerIndex: 0, listenerName: 'l', services: { clusterManager: new StubClusters({}), runLoop: new ActorRunLoop() } };
  assert.throws(() => tcpProxyFactory.create({}, 'servers[0].listeners[0].filter_chains[0].filters[0].config', ctx), /filters\[0\]\.config: a tcp_proxy filter needs a cluster or routes/);
  assert.throws(
    () => tcpProxyFactory.create({ cluster: 'a', routes: [{ cluster: 'b', source_addrs: [{ address: 'nope' }] }] }, 'c', ctx),
    /c\.routes\[0\]\.source_addrs\[0\]\.address/,
  );
});
