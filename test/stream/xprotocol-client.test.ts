/**
 * The multiplexed upstream client against a raw bolt peer on a real socket: request ids wrap past the
 * codec's maximum skipping ids still in flight, replies pair by id, unknown ids are dropped and
 * counted, the upstream's heartbeats are answered, keepalive probes a silent connection and closes a
 * dead one (failing its calls at once), and goaway lets the calls in flight finish first. Each
 * connection's side of the phase machine is an `upstream.phase` actor: a codec that throws stops it,
 * fails every call on it and resets the connection, once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { boltCodec } from '../../src/protocol/bolt/codec.js';
import { BoltStatus } from '../../src/protocol/bolt/constants.js';
import { FrameReader } from '../../src/protocol/xprotocol/frame-reader.js';
import { XClientFactory } from '../../src/stream/xprotocol/client-factory.js';
import type { XClientConnection } from '../../src/stream/xprotocol/client-connection.js';
import { snapshotCounters } from '../../src/common/counters.js';
import { threadRunLoop } from '../../src/actor/run-loop.js';
import type { RingsideError } from '../../src/common/errors.js';
import type { ResponseFrame } from '../../src/types/protocol.js';
import type { Host } from '../../src/types/upstream.js';
import { XCommand, type XFrame, type XKeepalive, type XProtocolCodec, type XRequest } from '../../src/types/xprotocol.js';

const limits = { maxHeaderBytes: 64 * 1024, maxContentBytes: 1 << 20 };

/** bolt with ids that run 1 … 3, so the wrap is reachable. */
const tinyIds: XProtocolCodec = {
  name: boltCodec.name,
  maxRequestId: 3,
  detect: (b) => boltCodec.detect(b),
  decode: (b, l) => boltCodec.decode(b, l),
  encode: (f) => boltCodec.encode(f),
  heartbeat: (id) => boltCodec.heartbeat(id),
  heartbeatReply: (r) => boltCodec.heartbeatReply(r),
  goAway: () => boltCodec.goAway(),
  reply: (r, s) => boltCodec.reply(r, s),
  statusOfError: (e) => boltCodec.statusOfError(e),
  statusOfHttp: (s) => boltCodec.statusOfHttp(s),
  httpStatusOf: (r) => boltCodec.httpStatusOf(r),
  unprocessed: (r) => boltCodec.unprocessed(r),
  newRequest: (a, b, c, d, e) => boltCodec.newRequest(a, b, c, d, e),
};

/** A raw upstream: every frame it reads, and the socket to answer on. */
async function peer(onFrame: (f: XFrame, sock: net.Socket) => void = () => {}) {
  const frames: XFrame[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((sock) => {
    sockets.push(sock);
    sock.on('error', () => {});
    const reader = new FrameReader(boltCodec, limits, { onFrame: (f) => (frames.push(f), onFrame(f, sock)), onDecodeError: (e) => assert.fail(e.error.message) });
    sock.on('data', (d: Buffer) => reader.feed(d));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const host = { host: '127.0.0.1', port, address: `127.0.0.1:${port}`, clusterName: 'c', hostname: 'h', weight: 1, metadata: {}, healthy: true, stats: {} } as unknown as Host;
  return {
    frames,
    sockets,
    host,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function connect(codec: XProtocolCodec, host: Host, keepalive: XKeepalive = { intervalMs: 0, deadAfterMs: 0 }) {
  const events = { idle: 0, closed: [] as string[] };
  const factory = new XClientFactory(codec, { connectTimeoutMs: () => 1000, maxInFlight: 16, keepalive, limits: { maxHeaderBytes: limits.maxHeaderBytes, maxBodyBytes: limits.maxContentBytes } });
  const client = await new Promise<XClientConnection>((resolve, reject) =>
    factory.connect(host, { onIdle: () => events.idle++, onClose: (r) => events.closed.push(r) }, (err, c) => (err ? reject(err) : resolve(c as XClientConnection))),
  );
  return { client, events };
}

function call(client: XClientConnection, service = 'com.example.Calc:1.0') {
  const result = { head: null as ResponseFrame | null, error: null as RingsideError | null };
  const req = boltCodec.newRequest(service, 'plus', {}, Buffer.from('args'), 1000);
  const stream = client.newStream({
    onUpstreamHead: (h) => (result.head = h),
    onUpstreamData: () => {},
    onUpstreamTrailers: () => {},
    onUpstreamError: (e) => (result.error = e),
  });
  stream.sendHead(req, null, true);
  return { req, stream, result };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('request ids wrap at the maximum to 1, skipping ids still in flight; replies pair by id; unknown ids are dropped and counted', async (t) => {
  const up = await peer();
  t.after(up.close);
  const { client } = await connect(tinyIds, up.host);
  t.after(() => client.close('test over'));
  const a = call(client);
  const b = call(client);
  const c = call(client);
  assert.deepEqual([a.req.requestId, b.req.requestId, c.req.requestId], [1, 2, 3]);
  await until(() => up.frames.length === 3);
  const answer = (id: number, status: number = BoltStatus.SUCCESS): void => {
    up.sockets[0]!.write(boltCodec.encode(Object.assign(boltCodec.reply(null, status), { requestId: id })));
  };
  answer(2);
  await until(() => b.result.head !== null);
  // 3 was the maximum: the counter wraps to 1 — still waiting for its answer — so it takes 2.
  const d = call(client);
  assert.equal(d.req.requestId, 2);
  const unknownBefore = snapshotCounters()['xprotocol.upstream.unknown_response_ids'] ?? 0;
  answer(9);
  answer(1, BoltStatus.SERVER_EXCEPTION);
  await until(() => a.result.head !== null);
  assert.equal(a.result.head!.status, BoltStatus.SERVER_EXCEPTION);
  assert.equal(snapshotCounters()['xprotocol.upstream.unknown_response_ids'], unknownBefore + 1);
  assert.equal(c.result.head, null);
  assert.equal(d.result.head, null);
  assert.equal(client.inFlight, 2);
});

test('a heartbeat from the upstream is answered; a silent upstream is probed, a dead one closed with its calls failed at once', async (t) => {
  // This peer answers heartbeats: the connection lives on past deadAfterMs.
  const alive = await peer((f, sock) => {
    if (f.kind === 'request' && f.command === XCommand.Heartbeat) sock.write(boltCodec.encode(boltCodec.heartbeatReply(f)));
  });
  t.after(alive.close);
  const live = await connect(boltCodec, alive.host, { intervalMs: 40, deadAfterMs: 200 });
  t.after(() => live.client.close('test over'));
  await until(() => alive.sockets.length === 1);
  alive.sockets[0]!.write(boltCodec.encode(boltCodec.heartbeat(77)));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(live.client.closed, false);
  assert.ok(alive.frames.some((f) => f.kind === 'response' && f.heartbeat && f.requestId === 77), 'the upstream’s heartbeat was answered');
  const probes = alive.frames.filter((f) => f.kind === 'request' && (f as XRequest).command === XCommand.Heartbeat);
  assert.ok(probes.length >= 3, `probes sent: ${probes.length}`);

  // This one reads and never answers anything.
  const silent = await peer();
  t.after(silent.close);
  const dead = await connect(boltCodec, silent.host, { intervalMs: 40, deadAfterMs: 200 });
  const pending = call(dead.client);
  const started = Date.now();
  await until(() => dead.client.closed, 2000);
  assert.ok(Date.now() - started < 1000);
  assert.equal(pending.result.error?.code, 'UPSTREAM_RESET');
  assert.match(dead.events.closed[0]!, /no answer from the upstream for 200 ms/);
});

test('goaway: no new request is taken, the calls in flight are answered, then the connection closes', async (t) => {
  const up = await peer();
  t.after(up.close);
  const { client, events } = await connect(boltCodec, up.host);
  const first = call(client);
  await until(() => up.frames.length === 1);
  up.sockets[0]!.write(boltCodec.encode(boltCodec.goAway()!));
  await until(() => !client.available);
  assert.equal(client.closed, false);
  up.sockets[0]!.write(boltCodec.encode(boltCodec.reply(first.req, BoltStatus.SUCCESS)));
  await until(() => client.closed);
  assert.equal(first.result.head?.status, BoltStatus.SUCCESS);
  assert.match(events.closed[0]!, /goaway/);
});

test('supervision: a codec that throws on a response stops the upstream.phase actor once; every call on it fails, the pool hears the close, a new connection carries on', async (t) => {
  /** bolt whose decoder has a bug: it throws on a response with SERVER_EXCEPTION status. */
  const buggy: XProtocolCodec = {
    ...tinyIds,
    maxRequestId: boltCodec.maxRequestId,
    decode: (b, l) => {
      const r = boltCodec.decode(b, l);
      if (r.kind === 'frame' && r.frame.kind === 'response' && !r.frame.heartbeat && r.frame.status === BoltStatus.SERVER_EXCEPTION) throw new Error('codec bug');
      return r;
    },
  };
  const up = await peer();
  t.after(up.close);
  const loop = threadRunLoop();
  const crashesBefore = loop.stats().kinds['upstream.phase']?.crashes ?? 0;
  const first = await connect(buggy, up.host);
  const a = call(first.client);
  const b = call(first.client);
  await until(() => up.frames.length === 2);
  up.sockets[0]!.write(boltCodec.encode(Object.assign(boltCodec.reply(null, BoltStatus.SERVER_EXCEPTION), { requestId: a.req.requestId })));
  await until(() => a.result.error !== null && b.result.error !== null);
  assert.equal(a.result.error!.code, 'UPSTREAM_RESET');
  assert.match(a.result.error!.message, /upstream client crashed: codec bug/);
  assert.equal(b.result.error!.code, 'UPSTREAM_RESET', 'the other call in flight fails at once, not at its timeout');
  assert.deepEqual(first.events.closed.length, 1, 'the pool hears the close once');
  assert.equal(first.client.closed, true);
  await until(() => up.sockets[0]!.destroyed);
  assert.equal((loop.stats().kinds['upstream.phase']?.crashes ?? 0) - crashesBefore, 1);

  const second = await connect(buggy, up.host);
  t.after(() => second.client.close('test over'));
  const c = call(second.client);
  await until(() => up.frames.length === 3);
  up.sockets[1]!.write(boltCodec.encode(Object.assign(boltCodec.reply(null, BoltStatus.SUCCESS), { requestId: c.req.requestId })));
  await until(() => c.result.head !== null);
  assert.equal(c.result.head!.status, BoltStatus.SUCCESS, 'a new connection carries on');
});
