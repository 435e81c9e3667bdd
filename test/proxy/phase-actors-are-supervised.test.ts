/**
 * Supervision of the phase machine's actors.
 *
 * `proxy.downstream`: a sender stream filter with a bug throws while the phase machine hands it the
 * upstream's answer. That request alone is answered with its protocol's error — HTTP/1.1: 500 and
 * the connection closed, or the connection cut once the response head is out; gRPC over HTTP/2:
 * INTERNAL on that stream — the crash is logged once with the actor kind and counted, every other
 * connection and stream carries on, and a drain does not wait for the crashed request.
 *
 * `upstream.phase`: the one piece of code on an upstream client's turn that is not the client's own
 * is the receiver it delivers the response to (in the proxy, the phase machine, which only tells
 * itself a message and so never throws there). A receiver with a bug makes the actor throw: its
 * upstream connection is closed, the pool forgets it (its drain does not wait), and the next
 * connection carries on.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { threadRunLoop } from '../../src/actor/run-loop.js';
import { configureLogging } from '../../src/common/log.js';
import { createExtensions } from '../../src/extensions.js';
import { FilterStatus } from '../../src/types/network.js';
import type { StreamFilterFactory, StreamSenderFilterCallbacks } from '../../src/types/stream.js';
import { ClusterCircuitBreaker } from '../../src/upstream/circuit-breaker.js';
import { UpstreamHost } from '../../src/upstream/host.js';
import { HostConnectionPool } from '../../src/upstream/pool.js';
import { Http1ClientFactory } from '../../src/proxy/clients/http1-client.js';
import { Http2ClientFactory } from '../../src/stream/http2/client.js';
import { Headers } from '../../src/protocol/headers.js';
import type { ClientFactory } from '../../src/types/upstream.js';
import { H1Request } from '../../src/protocol/http1/heads.js';
import type { RingsideError } from '../../src/common/errors.js';
import type { StreamClient, UpstreamResponseReceiver } from '../../src/types/proxy.js';
import { host as hostConfig } from '../fixtures/config-shapes.js';
import { cluster, proxyConfig, rawExchange, startDataplane, startUpstream } from './harness.js';
import { EchoClient, grpcProxyConfig, startEchoServer, unary } from './grpc-harness.js';

const logFile = join(mkdtempSync(join(tmpdir(), 'ringside-supervision-')), 'log.jsonl');
configureLogging('info', {}, logFile);

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

/**
 * A sender filter with a bug: it throws on the response head (`x-crash: head`) or on the response
 * body (`x-crash: body`) of a request that asks for it.
 */
const throwingSender: StreamFilterFactory = {
  create: () => (_stream, chain) => {
    let cb: StreamSenderFilterCallbacks;
    const when = (): string | undefined => cb.request?.headers.get('x-crash');
    chain.addSenderFilter({
      setSenderCallbacks: (c) => (cb = c),
      onSendHeaders() {
        if (when() === 'head') throw new Error('sender filter bug on the head');
        return FilterStatus.Continue;
      },
      onSendData() {
        if (when() === 'body') throw new Error('sender filter bug on the body');
        return FilterStatus.Continue;
      },
    });
  },
};

function extensions(): ReturnType<typeof createExtensions> {
  const ext = createExtensions();
  ext.streamFilters.register('test_sender_throws', throwingSender);
  return ext;
}

/** Crashes so far per request-path kind on this thread's run loop. */
function crashCounts(): Record<string, number> {
  const kinds = threadRunLoop().stats().kinds;
  const out: Record<string, number> = {};
  for (const k of ['proxy.downstream', 'upstream.phase', 'connection.read', 'connection.write']) out[k] = kinds[k]?.crashes ?? 0;
  return out;
}

function crashesSince(before: Record<string, number>): Record<string, number> {
  const now = crashCounts();
  const out: Record<string, number> = {};
  for (const k of Object.keys(now)) out[k] = now[k]! - before[k]!;
  return out;
}

/** Crash lines in the log for this actor kind. */
function crashLines(kind: string): string[] {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('crashed; stopping it') && l.includes(`(kind ${kind})`));
}

function within<T>(p: Promise<T>, what: string, ms = 3000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms))]);
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('HTTP/1.1: a phase machine that throws answers 500 (or cuts a started response), once per crash; the rest carry on and drain does not wait', async () => {
  const up = await startUpstream((_req, res) => res.end('ok'));
  closers.push(() => up.close());
  // The worker's loop is the thread's: request phase machines and connections share it.
  const runLoop = threadRunLoop();
  const before = crashCounts();
  const dp = await startDataplane(
    proxyConfig({
      routes: [{ match: { prefix: '/' }, route: { cluster_name: 'up' } }],
      clusters: [cluster('up', [up.address])],
      streamFilters: [{ type: 'test_sender_throws', config: {} }],
    }),
    { extensions: extensions(), runLoop },
  );
  closers.push(() => dp.close());
  const address = dp.addresses.get('ingress')!;
  const [host, port] = address.split(':');

  const healthy = net.connect(Number(port), host);
  closers.push(() => void healthy.destroy());
  await once(healthy, 'connect');
  let healthyText = '';
  healthy.setEncoding('latin1');
  healthy.on('data', (d: string) => (healthyText += d));
  healthy.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => healthyText.endsWith('ok'));

  const onHead = await rawExchange(address, 'GET /b HTTP/1.1\r\nHost: x\r\nx-crash: head\r\n\r\n');
  assert.match(onHead.text, /^HTTP\/1\.1 500 /, `got: ${JSON.stringify(onHead.text)}`);
  assert.match(onHead.text, /\r\nconnection: close\r\n/i);
  assert.ok(onHead.closed, 'the connection of the crashed request was closed');
  assert.equal((onHead.text.match(/HTTP\/1\.1 /g) ?? []).length, 1, 'one answer, no second head');

  // The head went out before the body hook threw: the only honest signal left is the close.
  const onBody = await rawExchange(address, 'GET /c HTTP/1.1\r\nHost: x\r\nx-crash: body\r\n\r\n');
  assert.ok(onBody.closed, 'a response cut after its head closes the connection');
  assert.doesNotMatch(onBody.text, /ok$/, `the body never went out: ${JSON.stringify(onBody.text)}`);

  healthyText = '';
  healthy.write('GET /d HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => healthyText.endsWith('ok'));
  assert.match(healthyText, /^HTTP\/1\.1 200 /, 'the other connection carries on');

  assert.deepEqual(crashesSince(before), { 'proxy.downstream': 2, 'upstream.phase': 0, 'connection.read': 0, 'connection.write': 0 });
  assert.equal(runLoop.stats().kinds['proxy.downstream']?.live, 0, 'no phase machine is left behind');
  assert.equal(crashLines('proxy.downstream').length, 2, 'each crash logged once, with its kind');

  // Only the healthy connection is left; a drain closes it (idle) without waiting on the crashed ones.
  assert.equal(dp.network.activeConnections(), 1);
  const started = Date.now();
  const drained = await Promise.race([dp.network.stopAccepting().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
  assert.ok(drained && Date.now() - started < 1000, `drain finished in ${Date.now() - started} ms`);
  await until(() => healthy.destroyed || healthy.readableEnded);
  await until(() => dp.network.activeConnections() === 0);
  healthy.destroy();
});

test('gRPC over HTTP/2: a phase machine that throws ends its call with INTERNAL; other calls on the same connection carry on', async () => {
  const server = await startEchoServer();
  closers.push(() => server.server.forceShutdown());
  // The worker's loop is the thread's: request phase machines and connections share it.
  const runLoop = threadRunLoop();
  const before = crashCounts();
  const cfg = grpcProxyConfig({
    routes: [{ match: { prefix: '/test.Echo/' }, route: { cluster_name: 'echo' } }],
    clusters: [cluster('echo', [server.address])],
  }) as { servers: { listeners: { stream_filters?: unknown[] }[] }[] };
  cfg.servers[0]!.listeners[0]!.stream_filters = [{ type: 'test_sender_throws', config: {} }];
  const dp = await startDataplane(cfg, { extensions: extensions(), runLoop });
  closers.push(() => dp.close());
  const phases = (): { spawned: number; messages: number } => {
    const k = runLoop.stats().kinds['upstream.phase'];
    return { spawned: k?.spawned ?? 0, messages: k?.messages ?? 0 };
  };
  const phasesBefore = phases();
  const client = new EchoClient(dp.addresses.get('ingress')!, grpc.credentials.createInsecure());
  closers.push(() => client.close());

  const ok = await unary(client, 'Unary', Buffer.from('one'));
  assert.equal(ok.err, null);
  assert.equal(ok.value?.toString(), 'echo:one');

  const crashed = await new Promise<grpc.StatusObject>((resolve) => {
    const md = new grpc.Metadata();
    md.set('x-crash', 'head');
    const call = (client as unknown as Record<string, (...a: unknown[]) => grpc.ClientUnaryCall>)['Unary']!(Buffer.from('two'), md, { deadline: Date.now() + 3000 }, () => {});
    call.on('status', resolve);
  });
  assert.equal(crashed.code, grpc.status.INTERNAL, `status ${crashed.code}: ${crashed.details}`);

  const again = await unary(client, 'Unary', Buffer.from('three'));
  assert.equal(again.err, null, 'the same HTTP/2 connection carries on');
  assert.equal(again.value?.toString(), 'echo:three');

  assert.deepEqual(crashesSince(before), { 'proxy.downstream': 1, 'upstream.phase': 0, 'connection.read': 0, 'connection.write': 0 });
  // The HTTP/2 upstream connection's side of the phase machine is an actor too: one, told every call.
  const phasesAfter = phases();
  assert.equal(phasesAfter.spawned - phasesBefore.spawned, 1, 'one upstream.phase actor for the one HTTP/2 upstream connection');
  assert.ok(phasesAfter.messages - phasesBefore.messages >= 6, `messages to it: ${phasesAfter.messages - phasesBefore.messages}`);
  assert.equal(runLoop.stats().kinds['proxy.downstream']?.live, 0);
  assert.equal(crashLines('proxy.downstream').length, 3, 'logged once, with its kind (two from the test before)');
});

interface CountingServer {
  address: string;
  connections: number;
  closed: number;
}

/** Counts the connections a server accepted and saw close. */
async function counting(server: net.Server): Promise<CountingServer> {
  const c: CountingServer = { address: '', connections: 0, closed: 0 };
  server.on('connection', (socket: net.Socket) => {
    c.connections++;
    socket.on('close', () => c.closed++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  c.address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return c;
}

/**
 * One upstream client family under supervision: a receiver that throws on every call it gets makes
 * the client's upstream.phase actor throw.
 */
async function superviseClient(factory: ClientFactory, server: CountingServer): Promise<void> {
  const before = crashCounts();
  const loop = threadRunLoop();
  const phasesBefore = loop.stats().kinds['upstream.phase']?.live ?? 0;
  const linesBefore = crashLines('upstream.phase').length;
  const host = new UpstreamHost('c', hostConfig({ address: server.address }), 'hosts[0]');
  const pool = new HostConnectionPool(host, { factory, breaker: new ClusterCircuitBreaker('c', {}) });

  const get = (buggy: boolean): Promise<{ status?: number; body: string; err?: RingsideError }> =>
    new Promise((resolve, reject) => {
      pool.acquire({
        onPoolFailure: reject,
        onPoolReady(client) {
          let status: number | undefined;
          let body = '';
          const receiver: UpstreamResponseReceiver = {
            onUpstreamHead(head) {
              if (buggy) throw new Error('receiver bug on the head');
              status = head.status;
            },
            onUpstreamData(chunk, end) {
              body += chunk.toString();
              if (end) resolve({ status, body });
            },
            onUpstreamTrailers: () => resolve({ status, body }),
            onUpstreamError(err) {
              resolve({ status, body, err });
              if (buggy) throw new Error('receiver bug on the error');
            },
          };
          (client as StreamClient).newStream(receiver).sendHead(new H1Request(0, 'GET', '/', Headers.from({ host: 'x' })), null, true);
        },
      });
    });

  const crashed = await within(get(true), 'the request on the crashing client');
  assert.equal(crashed.err?.code, 'UPSTREAM_RESET', 'the stream in flight is cut');
  assert.match(crashed.err!.message, /upstream client crashed: receiver bug on the head/);
  await until(() => server.connections === 1 && pool.stats().connections === 0);
  assert.equal(host.stats.activeConnections, 0, 'the pool forgot the crashed connection');
  await until(() => server.closed === 1);

  const next = await within(get(false), 'the request on the next connection');
  assert.deepEqual(next, { status: 200, body: 'ok' }, 'a new connection carries on');
  assert.equal(server.connections, 2);

  assert.deepEqual(crashesSince(before), { 'proxy.downstream': 0, 'upstream.phase': 1, 'connection.read': 0, 'connection.write': 0 });
  assert.equal(crashLines('upstream.phase').length - linesBefore, 1, 'logged once, with its kind');
  const drained = await Promise.race([pool.drain().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
  assert.ok(drained, 'the pool drains: nothing waits on the crashed connection');
  await until(() => (loop.stats().kinds['upstream.phase']?.live ?? 0) === phasesBefore);
}

test('upstream.phase (HTTP/1.1): a client whose turn throws closes its connection, the pool forgets it and drains; the next connection carries on', async () => {
  const server = await counting(http.createServer((_req, res) => res.end('ok')));
  await superviseClient(new Http1ClientFactory({ connectTimeoutMs: () => 2000 }), server);
});

test('upstream.phase (HTTP/2): the same for a multiplexed client: its streams fail, its connection is reset and forgotten', async () => {
  const server = await counting(http2.createServer((_req, res) => res.end('ok')) as unknown as net.Server);
  await superviseClient(new Http2ClientFactory({ connectTimeoutMs: () => 2000 }), server);
});
