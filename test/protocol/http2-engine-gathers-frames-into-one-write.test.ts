/**
 * The engine's output leaves as one transport write per burst: the HEADERS and DATA of several
 * streams and the WINDOW_UPDATEs one read produced reach the transport together at the microtask
 * checkpoint after that read — not one write per frame, and never later than the callback's own
 * microtasks (before a setImmediate of the same turn).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { Http2Connection } from '../../src/protocol/http2/index.js';
import { FrameParser } from '../../src/protocol/http2/frame-parser.js';
import { HpackEncoder } from '../../src/protocol/http2/hpack.js';
import { FrameType, type Http2Frame } from '../../src/types/http2.js';
import { PREFACE, frame } from './http2-peers.js';

function framesOf(bytes: Buffer): { type: FrameType; streamId: number }[] {
  const out: { type: FrameType; streamId: number }[] = [];
  const parser = new FrameParser({ maxFrameSize: 1 << 24, maxHeaderBlockBytes: 1 << 24 }, (f: Http2Frame) => {
    out.push({ type: f.type, streamId: 'streamId' in f ? f.streamId : 0 });
  }, () => {});
  parser.execute(bytes);
  return out;
}

test('one read that answers three streams and credits their bodies is one write, before the turn ends', async () => {
  const writes: Buffer[] = [];
  let engine!: Http2Connection;
  engine = new Http2Connection({
    role: 'server',
    settings: { initialStreamWindowSize: 65_535 },
    transport: { write: (b) => void writes.push(Buffer.from(b)), close() {} },
    handler: {
      onStreamHeaders: (id) => engine.sendHeaders(id, [':status', '200'], false),
      onStreamData: (id, _data, end) => {
        if (end) engine.sendData(id, Buffer.from(`answer ${id}`), true);
      },
      onStreamReset() {},
      onConnectionClosed() {},
    },
  });
  engine.start();
  await new Promise<void>((r) => queueMicrotask(r));
  assert.equal(writes.length, 1, 'our SETTINGS and the connection window went out as one write');
  writes.length = 0;

  const enc = new HpackEncoder();
  const parts = [PREFACE, frame(FrameType.Settings, 0, 0), frame(FrameType.Settings, 0x1, 0)];
  for (const id of [1, 3, 5]) {
    parts.push(frame(FrameType.Headers, 0x4, id, enc.encode([':method', 'POST', ':scheme', 'http', ':path', `/s${id}`, ':authority', 'x'])));
    // 40,000 bytes: past half the stream window, so each stream is credited (WINDOW_UPDATE); then END_STREAM.
    for (let sent = 0; sent < 40_000; sent += 10_000) parts.push(frame(FrameType.Data, 0, id, Buffer.alloc(10_000, id)));
    parts.push(frame(FrameType.Data, 0x1, id));
  }
  let turnEndedAfter = -1;
  setImmediate(() => (turnEndedAfter = writes.length));
  engine.execute(Buffer.concat(parts));
  assert.equal(writes.length, 0, 'nothing is written frame by frame during the read');
  await new Promise<void>((r) => queueMicrotask(r));
  assert.equal(writes.length, 1, 'the whole answer is one write at the microtask checkpoint');
  await new Promise<void>((r) => setImmediate(r));
  assert.equal(turnEndedAfter, 1, 'the write was made before the turn went on to its setImmediate callbacks');

  const frames = framesOf(writes[0]!);
  const of = (type: FrameType) => frames.filter((f) => f.type === type).map((f) => f.streamId);
  assert.deepEqual(of(FrameType.Settings), [0], 'the SETTINGS ACK');
  assert.deepEqual(of(FrameType.Headers), [1, 3, 5]);
  assert.deepEqual(of(FrameType.Data), [1, 3, 5]);
  assert.deepEqual(of(FrameType.WindowUpdate), [1, 3, 5], 'each stream credited in the same write');
  for (const id of [1, 3, 5]) {
    const at = (type: FrameType) => frames.findIndex((f) => f.type === type && f.streamId === id);
    assert.ok(at(FrameType.Headers) < at(FrameType.Data), `stream ${id}: its head before its body`);
  }
  engine.close(0, 'done');
});

test('a node:http2 client with 20 concurrent echo streams: at most one socket write per read, every answer whole', async () => {
  let reads = 0;
  let writes = 0;
  const server = net.createServer((socket) => {
    let engine!: Http2Connection;
    engine = new Http2Connection({
      role: 'server',
      transport: {
        write: (b) => {
          writes++;
          socket.write(b);
        },
        close: () => socket.end(),
      },
      handler: {
        onStreamHeaders: (id, _f, end) => {
          engine.sendHeaders(id, [':status', '200'], end);
        },
        onStreamData: (id, data, end) => engine.sendData(id, data, end),
        onStreamReset() {},
        onConnectionClosed() {},
      },
    });
    socket.on('data', (d) => {
      reads++;
      engine.execute(d);
    });
    socket.on('close', () => engine.transportClosed('closed'));
    socket.on('error', () => {});
    engine.start();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  try {
    const bodies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new Promise<string>((resolve, reject) => {
          const req = client.request({ ':method': 'POST', ':path': `/echo/${i}` });
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => resolve(Buffer.concat(chunks).toString()));
          req.on('error', reject);
          req.end(`message ${i} `.repeat(200));
        }),
      ),
    );
    bodies.forEach((b, i) => assert.equal(b, `message ${i} `.repeat(200)));
    assert.ok(writes <= reads + 1, `${writes} socket writes for ${reads} reads (+1: our SETTINGS)`);
  } finally {
    client.destroy();
    server.close();
  }
});
