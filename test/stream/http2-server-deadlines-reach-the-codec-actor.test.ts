/**
 * A downstream HTTP/2 connection's engine belongs to its `downstream.codec` actor: the engine's own
 * deadlines (SETTINGS acknowledgement, preface / header block), a drain's GOAWAY and the
 * connection's close reach it as messages. A deadline that fires while the actor holds its turn is
 * queued behind the bytes that turn is handling (GOAWAY names the last stream of that read), one that
 * fires after the actor stopped is a dead letter, and each deadline still does what RFC 9113 says to
 * raw and node:http2 peers.
 */
import { test, mock, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { once } from 'node:events';
import { threadRunLoop } from '../../src/actor/run-loop.js';
import { createExtensions } from '../../src/extensions.js';
import { HpackEncoder } from '../../src/protocol/http2/hpack.js';
import { FilterStatus } from '../../src/types/network.js';
import { FrameType, Http2ErrorCode } from '../../src/types/http2.js';
import type { ActorKindStats } from '../../src/types/actor.js';
import type { StreamFilterFactory, StreamReceiverFilterCallbacks } from '../../src/types/stream.js';
import { cluster, deadAddress, startDataplane, type Dataplane } from '../proxy/harness.js';
import { grpcProxyConfig } from '../proxy/grpc-harness.js';
import { PREFACE, RawClient, frame } from '../protocol/http2-peers.js';

const KIND = 'downstream.codec';
const SETTINGS_MS = 150;

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

/** What the test filter does inside the codec actor's turn, per request. */
let onRequest: (cb: StreamReceiverFilterCallbacks, path: string, crash: boolean) => void = () => {};

/** Answers every request 200 itself, after running `onRequest`; throws on `x-crash` (a filter bug). */
const turnFilter: StreamFilterFactory = {
  create: () => (_stream, chain) => {
    let cb!: StreamReceiverFilterCallbacks;
    chain.addReceiverFilter({
      setReceiverCallbacks: (c) => (cb = c),
      onReceiveHeaders(request) {
        const crash = request.headers.get('x-crash') !== undefined;
        onRequest(cb, request.path, crash);
        if (crash) throw new Error('filter bug');
        cb.sendLocalReply(200, { 'x-seen': request.path });
        return FilterStatus.Stop;
      },
    });
  },
};

async function plane(http2Settings: Record<string, unknown>): Promise<{ dp: Dataplane; port: number; address: string }> {
  const extensions = createExtensions();
  extensions.streamFilters.register('test_codec_turn', turnFilter);
  const config = grpcProxyConfig({
    routes: [{ match: { prefix: '/' }, route: { cluster_name: 'nowhere' } }],
    clusters: [cluster('nowhere', [await deadAddress()])],
    ringside: { http2: http2Settings },
  }) as { servers: { listeners: { stream_filters?: unknown[] }[] }[] };
  config.servers[0]!.listeners[0]!.stream_filters = [{ type: 'test_codec_turn', config: {} }];
  const dp = await startDataplane(config, { extensions });
  closers.push(() => dp.close());
  const address = dp.addresses.get('ingress')!;
  return { dp, address, port: Number(address.split(':')[1]) };
}

function kind(): ActorKindStats {
  return threadRunLoop().stats().kinds[KIND] ?? { live: 0, spawned: 0, messages: 0, queued: 0, turns: 0, crashes: 0, deadLetters: 0 };
}

/** A request HEADERS frame (END_HEADERS | END_STREAM) on `id`, encoded with the connection's own HPACK context. */
function request(hpack: HpackEncoder, id: number, path: string, extra: string[] = []): Buffer {
  const block = hpack.encode([':method', 'POST', ':scheme', 'http', ':path', path, ':authority', 'x', 'content-type', 'application/grpc', 'te', 'trailers', ...extra]);
  return frame(FrameType.Headers, 0x4 | 0x1, id, block);
}
const EMPTY_SETTINGS = frame(FrameType.Settings, 0, 0);

/** Waits for `cond` with setImmediate turns only (setTimeout may be mocked), up to `ms` of wall time. */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setImmediate(r));
  }
}

test('a SETTINGS deadline that fires inside the actor\'s turn is queued: the rest of the read is served first, then GOAWAY SETTINGS_TIMEOUT', async () => {
  const { port } = await plane({ settings_timeout: `${SETTINGS_MS}ms`, headers_timeout: '60s' });
  const seen: { path: string; closedAtOnce: boolean; queuedDelta: number }[] = [];
  onRequest = (cb, path) => {
    const before = kind().queued;
    // The SETTINGS timer passes now, while this actor is running the read that holds both requests.
    if (path === '/test.Echo/One') mock.timers.tick(SETTINGS_MS);
    seen.push({ path, closedAtOnce: cb.stream.connection.closed, queuedDelta: kind().queued - before });
  };
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const raw = await RawClient.connect(port);
    closers.push(() => void raw.socket.destroy());
    const messagesBefore = kind().messages;
    const hpack = new HpackEncoder();
    // Preface, SETTINGS and two requests in one write; our SETTINGS are never acknowledged.
    raw.write(PREFACE, EMPTY_SETTINGS, request(hpack, 1, '/test.Echo/One'), request(hpack, 3, '/test.Echo/Two'));
    await until(() => raw.closed || raw.goaway() !== undefined);
    assert.deepEqual(
      seen.map((s) => s.path),
      ['/test.Echo/One', '/test.Echo/Two'],
      'the second request of the read was handled although the deadline had fired before it',
    );
    assert.equal(seen[0]!.closedAtOnce, false, 'the timer itself did not close the connection');
    assert.equal(seen[0]!.queuedDelta, 1, 'the expiry went to the busy actor\'s mailbox');
    const goaway = raw.goaway()!;
    assert.equal(goaway.code, Http2ErrorCode.SettingsTimeout);
    assert.equal(goaway.lastStreamId, 3, 'GOAWAY came after the whole read: it names stream 3');
    const answered = raw.headers.filter((h) => h.fields[0] === ':status').map((h) => h.streamId);
    assert.deepEqual(answered, [1, 3], 'both requests were answered before the GOAWAY');
    assert.ok(kind().messages - messagesBefore >= 2, 'bytes and the deadline were messages to the actor');
  } finally {
    mock.timers.reset();
    onRequest = () => {};
  }
});

test('a deadline armed by an actor that crashed is a dead letter; the crash resets that connection only', async () => {
  const { port, address } = await plane({ settings_timeout: `${SETTINGS_MS}ms`, headers_timeout: '60s' });
  const before = kind();
  // A node:http2 client (it acknowledges SETTINGS) on its own connection, across the crash.
  const healthy = http2.connect(`http://${address}`);
  closers.push(() => void healthy.destroy());
  const ask = async (path: string): Promise<string | undefined> => {
    const req = healthy.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    req.end();
    const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
    req.resume();
    return headers['x-seen'] as string | undefined;
  };
  assert.equal(await ask('/test.Echo/Before'), '/test.Echo/Before');

  const raw = await RawClient.connect(port);
  closers.push(() => void raw.socket.destroy());
  raw.write(PREFACE, EMPTY_SETTINGS, request(new HpackEncoder(), 1, '/test.Echo/Crash', ['x-crash', '1']));
  await raw.until(() => raw.closed);
  assert.equal(raw.goaway()?.code, Http2ErrorCode.InternalError, 'GOAWAY INTERNAL_ERROR before the close');
  assert.equal(kind().crashes - before.crashes, 1, 'the crash is counted under downstream.codec');
  // The crashed engine's SETTINGS timer is still armed; when it fires, its actor is gone.
  await until(() => kind().deadLetters > before.deadLetters, SETTINGS_MS * 10);
  assert.equal(kind().deadLetters - before.deadLetters, 1);

  // The other connection is served on, well past its own SETTINGS deadline (it acknowledged).
  assert.equal(await ask('/test.Echo/After'), '/test.Echo/After');
  assert.equal(healthy.closed || healthy.destroyed, false);
});

test('real peers: no SETTINGS ack is GOAWAY SETTINGS_TIMEOUT, no preface is GOAWAY PROTOCOL_ERROR, a drain is GOAWAY NO_ERROR to node:http2', async () => {
  const { dp, port, address } = await plane({ settings_timeout: `${SETTINGS_MS}ms`, headers_timeout: `${SETTINGS_MS / 2}ms` });
  const mute = await RawClient.connect(port);
  const silent = await RawClient.connect(port);
  closers.push(() => void mute.socket.destroy(), () => void silent.socket.destroy());
  mute.write(PREFACE, EMPTY_SETTINGS); // never acknowledges
  await Promise.all([mute.until(() => mute.closed), silent.until(() => silent.closed)]);
  assert.equal(mute.goaway()?.code, Http2ErrorCode.SettingsTimeout);
  assert.equal(silent.goaway()?.code, Http2ErrorCode.ProtocolError);
  assert.match(silent.goaway()!.debug.toString(), /preface and SETTINGS not complete/);

  const client = http2.connect(`http://${address}`);
  closers.push(() => void client.destroy());
  const goaway = new Promise<number>((resolve) => client.once('goaway', (code: number) => resolve(code)));
  const req = client.request({ ':method': 'POST', ':path': '/test.Echo/Drain', 'content-type': 'application/grpc', te: 'trailers' });
  req.end();
  const [headers] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
  assert.equal(headers['x-seen'], '/test.Echo/Drain');
  req.resume();
  const deliveredBefore = kind().messages;
  await dp.network.stopAccepting();
  assert.equal(await goaway, Http2ErrorCode.NoError);
  await once(client, 'close');
  assert.ok(kind().messages > deliveredBefore, 'the drain reached the connection as a message');
});
