/**
 * Ringside's HTTP/2 engine against Node's node:http2 client and server as independent peers, then
 * against raw frames for the bad-input rules (wrong preface, frame sizes, floods, header limits).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { Http2Connection } from '../../src/protocol/http2/index.js';
import { FrameType, Http2ErrorCode } from '../../src/types/http2.js';
import { HpackEncoder } from '../../src/protocol/http2/hpack.js';
import { RawClient, frame, PREFACE, serveEngine } from './http2-peers.js';

/** An echo app on the engine: answers each request with 200, its body echoed, and trailers. */
function echoApp(conn: () => Http2Connection) {
  const paths = new Map<number, string>();
  return {
    onStreamHeaders(id: number, fields: string[], end: boolean) {
      if (!paths.has(id)) {
        paths.set(id, fields[fields.indexOf(':path') + 1]!);
        conn().sendHeaders(id, [':status', '200', 'x-path', paths.get(id)!], false);
      }
      if (end) conn().sendHeaders(id, ['x-trailer', 'done', 'x-path', paths.get(id)!], true);
    },
    onStreamData(id: number, data: Buffer, end: boolean) {
      conn().sendData(id, data, false);
      if (end) conn().sendHeaders(id, ['x-trailer', 'done'], true);
    },
  };
}

function request(client: http2.ClientHttp2Session, path: string, body: Buffer | null) {
  return new Promise<{ headers: http2.IncomingHttpHeaders; body: Buffer; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
    const req = client.request({ ':method': 'POST', ':path': path }, { endStream: body === null });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ headers, body: Buffer.concat(chunks), trailers }));
    req.on('error', reject);
    if (body !== null) req.end(body);
  });
}

test('node:http2 client ↔ engine server: heads, bodies past every window, trailers, 50 concurrent streams', async () => {
  const srv = await serveEngine(echoApp, { initialStreamWindowSize: 65535, initialConnectionWindowSize: 65535 * 2 });
  const client = http2.connect(`http://127.0.0.1:${srv.port}`);
  try {
    const small = await request(client, '/a', null);
    assert.equal(small.headers[':status'], 200);
    assert.equal(small.headers['x-path'], '/a');
    assert.equal(small.trailers['x-trailer'], 'done');

    // 1 MiB each way: far past the 64 KiB stream window and the node client's own windows.
    const big = Buffer.alloc(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    const echoed = await request(client, '/big', big);
    assert.equal(echoed.body.length, big.length);
    assert.ok(echoed.body.equals(big), 'body echoed byte for byte');
    assert.equal(echoed.trailers['x-trailer'], 'done');

    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => request(client, `/m${i}`, Buffer.from(`body ${i}`))));
    many.forEach((r, i) => {
      assert.equal(r.headers['x-path'], `/m${i}`);
      assert.equal(r.body.toString(), `body ${i}`);
    });
    assert.equal(srv.connections[0]!.activeStreams, 0, 'every stream closed on the engine');
  } finally {
    client.close();
    await srv.close();
  }
});

test('engine client ↔ node:http2 server: request body, 1 MiB response, trailers (waitForTrailers)', async () => {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'x-got': String(Buffer.concat(chunks).length), 'x-path': String(headers[':path']) }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.alloc(headers[':path'] === '/big' ? 1 << 20 : 3, 7));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1').setNoDelay(true);
  await once(socket, 'connect');
  const results = new Map<number, { fields: string[][]; bytes: number; ended: boolean }>();
  const conn: Http2Connection = new Http2Connection({
    role: 'client',
    settings: { initialStreamWindowSize: 65535, initialConnectionWindowSize: 65535 },
    transport: { write: (b) => socket.write(b), close: () => socket.end() },
    handler: {
      onStreamHeaders: (id, f, end) => {
        results.get(id)!.fields.push(f);
        if (end) results.get(id)!.ended = true;
      },
      onStreamData: (id, d, end) => {
        results.get(id)!.bytes += d.length;
        if (end) results.get(id)!.ended = true;
      },
      onStreamReset: () => {},
      onConnectionClosed: () => {},
    },
  });
  socket.on('data', (d) => conn.execute(d));
  socket.on('close', () => conn.transportClosed('closed'));
  conn.start();
  const open = (path: string, body: Buffer) => {
    const id = conn.openStream([':method', 'POST', ':scheme', 'http', ':authority', 'x', ':path', path], false);
    results.set(id, { fields: [], bytes: 0, ended: false });
    conn.sendData(id, body, true);
    return id;
  };
  try {
    const a = open('/small', Buffer.alloc(200_000, 1)); // past the server's default 64 KiB window
    const b = open('/big', Buffer.from('x'));
    const deadline = Date.now() + 5000;
    while (!(results.get(a)!.ended && results.get(b)!.ended) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const ra = results.get(a)!;
    assert.equal(ra.fields[0]![ra.fields[0]!.indexOf('x-got') + 1], '200000');
    assert.deepEqual(ra.fields[1], ['grpc-status', '0'], 'trailers as the second block');
    assert.equal(results.get(b)!.bytes, 1 << 20, '1 MiB read through a 64 KiB window');
    assert.equal(conn.activeStreams, 0);
  } finally {
    socket.destroy();
    server.close();
  }
});

test('a wrong preface is a PROTOCOL_ERROR GOAWAY on that connection only', async () => {
  const srv = await serveEngine(echoApp);
  const good = http2.connect(`http://127.0.0.1:${srv.port}`);
  try {
    const raw = await RawClient.connect(srv.port);
    raw.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await raw.until(() => raw.goaway() !== undefined);
    assert.equal(raw.goaway()!.code, Http2ErrorCode.ProtocolError);
    await raw.until(() => raw.closed);
    assert.equal(raw.closed, true);
    const r = await request(good, '/still', null);
    assert.equal(r.headers[':status'], 200, 'another connection is untouched');
  } finally {
    good.close();
    await srv.close();
  }
});

test('frame rules: oversized frame, PUSH_PROMISE, CONTINUATION interleaving, padding, PRIORITY skipped', async () => {
  const srv = await serveEngine(echoApp);
  const enc = new HpackEncoder();
  const block = enc.encode([':method', 'GET', ':scheme', 'http', ':path', '/padded', ':authority', 'x']);
  try {
    // Padded HEADERS with priority fields, split across a CONTINUATION, then a PRIORITY frame: served.
    const c1 = await RawClient.connect(srv.port);
    const padded = Buffer.concat([Buffer.from([4]), Buffer.alloc(5), block.subarray(0, 3), Buffer.alloc(4)]);
    c1.write(PREFACE, frame(FrameType.Settings, 0, 0), frame(FrameType.Priority, 0, 3, Buffer.alloc(5)), frame(FrameType.Headers, 0x8 | 0x20 | 0x1, 1, padded), frame(FrameType.Continuation, 0x4, 1, block.subarray(3)));
    await c1.until(() => c1.headers.some((h) => h.fields.includes('x-trailer')));
    const head = c1.headers.find((h) => h.streamId === 1)!;
    assert.deepEqual(head.fields, [':status', '200', 'x-path', '/padded']);
    // A padded DATA frame whose padding is as long as the payload is a PROTOCOL_ERROR.
    c1.write(frame(FrameType.Headers, 0x4, 3, new HpackEncoder().encode([':method', 'POST', ':scheme', 'http', ':path', '/p'])), frame(FrameType.Data, 0x8, 3, Buffer.from([5, 1, 2])));
    await c1.until(() => c1.goaway() !== undefined);
    assert.equal(c1.goaway()!.code, Http2ErrorCode.ProtocolError);

    const c2 = await RawClient.connect(srv.port);
    c2.write(PREFACE, frame(FrameType.Settings, 0, 0), frame(FrameType.Data, 0, 1, Buffer.alloc(20_000)));
    await c2.until(() => c2.goaway() !== undefined);
    assert.equal(c2.goaway()!.code, Http2ErrorCode.FrameSizeError, 'a frame past SETTINGS_MAX_FRAME_SIZE');

    const c3 = await RawClient.connect(srv.port);
    c3.write(PREFACE, frame(FrameType.Settings, 0, 0), frame(FrameType.PushPromise, 0x4, 1, Buffer.alloc(4)));
    await c3.until(() => c3.goaway() !== undefined);
    assert.equal(c3.goaway()!.code, Http2ErrorCode.ProtocolError, 'PUSH_PROMISE refused');

    const c4 = await RawClient.connect(srv.port);
    c4.write(PREFACE, frame(FrameType.Settings, 0, 0), frame(FrameType.Headers, 0, 1, block.subarray(0, 2)), frame(FrameType.Ping, 0, 0, Buffer.alloc(8)));
    await c4.until(() => c4.goaway() !== undefined);
    assert.equal(c4.goaway()!.code, Http2ErrorCode.ProtocolError, 'a frame between HEADERS and its CONTINUATION');

    const c5 = await RawClient.connect(srv.port);
    c5.write(PREFACE, frame(FrameType.Ping, 0, 0, Buffer.alloc(8)));
    await c5.until(() => c5.goaway() !== undefined);
    assert.equal(c5.goaway()!.code, Http2ErrorCode.ProtocolError, 'the first frame must be SETTINGS');

    const c6 = await RawClient.connect(srv.port);
    c6.write(PREFACE, frame(FrameType.Settings, 0, 0), frame(FrameType.Headers, 0x4, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f])));
    await c6.until(() => c6.goaway() !== undefined);
    assert.equal(c6.goaway()!.code, Http2ErrorCode.CompressionError, 'an HPACK index past the tables');
  } finally {
    await srv.close();
  }
});

test('malformed requests are stream errors: other streams on the connection carry on', async () => {
  const srv = await serveEngine(echoApp);
  try {
    const c = await RawClient.connect(srv.port);
    const enc = new HpackEncoder();
    c.write(
      PREFACE,
      frame(FrameType.Settings, 0, 0),
      frame(FrameType.Headers, 0x5, 1, enc.encode([':method', 'GET', ':scheme', 'http', ':path', '/x', 'Upper', 'a'])),
      frame(FrameType.Headers, 0x5, 3, enc.encode([':method', 'GET', ':scheme', 'http', ':path', '/x', 'connection', 'close'])),
      frame(FrameType.Headers, 0x5, 5, enc.encode([':method', 'GET', ':path', '/x'])),
      frame(FrameType.Headers, 0x5, 7, enc.encode([':method', 'GET', ':scheme', 'http', ':path', '/ok'])),
    );
    await c.until(() => c.headers.some((h) => h.streamId === 7 && h.fields.includes('x-trailer')));
    const rsts = c.frames.filter((f) => f.type === FrameType.RstStream) as { streamId: number; code: number }[];
    assert.deepEqual(rsts.map((r) => [r.streamId, r.code]), [[1, 1], [3, 1], [5, 1]]);
    assert.equal(c.goaway(), undefined);
  } finally {
    await srv.close();
  }
});

test('a header list past SETTINGS_MAX_HEADER_LIST_SIZE is answered 431; the connection carries on', async () => {
  const srv = await serveEngine(echoApp, { maxHeaderListSize: 4096 });
  const client = http2.connect(`http://127.0.0.1:${srv.port}`);
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = client.request({ ':path': '/big-head', 'x-big': 'b'.repeat(6000) });
      req.on('response', (h) => resolve(Number(h[':status'])));
      req.on('error', reject);
      req.resume();
    });
    assert.equal(status, 431);
    const r = await request(client, '/after', null);
    assert.equal(r.headers[':status'], 200);
  } finally {
    client.close();
    await srv.close();
  }
});

test('rapid reset: streams opened and reset past the bound close the connection with ENHANCE_YOUR_CALM', async () => {
  let opened = 0;
  const srv = await serveEngine(() => ({ onStreamHeaders: () => void opened++ }), { maxResetsPerSecond: 50 });
  try {
    const c = await RawClient.connect(srv.port);
    const enc = new HpackEncoder();
    const parts = [PREFACE, frame(FrameType.Settings, 0, 0)];
    for (let id = 1; id < 1000; id += 2) {
      parts.push(frame(FrameType.Headers, 0x4, id, enc.encode([':method', 'GET', ':scheme', 'http', ':path', '/'])), frame(FrameType.RstStream, 0, id, Buffer.from([0, 0, 0, 8])));
    }
    c.write(...parts);
    await c.until(() => c.goaway() !== undefined);
    assert.equal(c.goaway()!.code, Http2ErrorCode.EnhanceYourCalm);
    assert.ok(opened <= 101, `at most the burst of streams reached the handler (${opened})`);
    assert.equal(srv.connections[0]!.activeStreams, 0, 'nothing held for the flood');
  } finally {
    await srv.close();
  }
});

test('streams past SETTINGS_MAX_CONCURRENT_STREAMS are refused with REFUSED_STREAM', async () => {
  const srv = await serveEngine(() => ({}), { maxConcurrentStreams: 2 });
  try {
    const c = await RawClient.connect(srv.port);
    const enc = new HpackEncoder();
    const h = (id: number) => frame(FrameType.Headers, 0x4, id, enc.encode([':method', 'GET', ':scheme', 'http', ':path', '/']));
    c.write(PREFACE, frame(FrameType.Settings, 0, 0), h(1), h(3), h(5));
    await c.until(() => c.frames.some((f) => f.type === FrameType.RstStream));
    const rst = c.frames.find((f) => f.type === FrameType.RstStream) as { streamId: number; code: number };
    assert.deepEqual([rst.streamId, rst.code], [5, Http2ErrorCode.RefusedStream]);
    assert.equal(srv.connections[0]!.activeStreams, 2);
  } finally {
    await srv.close();
  }
});

test('flow control: a paused stream credits nothing back, and DATA past its window is a FLOW_CONTROL_ERROR stream error', async () => {
  // The app stops reading the stream: no credit goes back, so the peer has exactly one window.
  const srv = await serveEngine((conn) => ({ onStreamHeaders: (id) => conn().setStreamReceiving(id, false) }), { initialStreamWindowSize: 65535, initialConnectionWindowSize: 65535 });
  try {
    const c = await RawClient.connect(srv.port);
    const enc = new HpackEncoder();
    const head = (id: number) => frame(FrameType.Headers, 0x4, id, enc.encode([':method', 'POST', ':scheme', 'http', ':path', '/']));
    const parts = [PREFACE, frame(FrameType.Settings, 0, 0), frame(FrameType.Settings, 1, 0), head(1)];
    for (let i = 0; i < 5; i++) parts.push(frame(FrameType.Data, 0, 1, Buffer.alloc(16384)));
    c.write(...parts);
    await c.until(() => c.frames.some((f) => f.type === FrameType.RstStream || f.type === FrameType.Goaway));
    const rst = c.frames.find((f) => f.type === FrameType.RstStream) as { streamId: number; code: number } | undefined;
    assert.deepEqual([rst?.streamId, rst?.code], [1, Http2ErrorCode.FlowControlError]);
  } finally {
    await srv.close();
  }
});

test('SETTINGS never acknowledged: SETTINGS_TIMEOUT after settingsAckTimeoutMs; a peer that acks is served on', async () => {
  const srv = await serveEngine(echoApp, { settingsAckTimeoutMs: 150 });
  const good = http2.connect(`http://127.0.0.1:${srv.port}`);
  try {
    const raw = await RawClient.connect(srv.port);
    const started = Date.now();
    raw.write(PREFACE, frame(FrameType.Settings, 0, 0)); // and never the ACK of the server's SETTINGS
    await raw.until(() => raw.goaway() !== undefined);
    assert.equal(raw.goaway()!.code, Http2ErrorCode.SettingsTimeout);
    assert.ok(Date.now() - started >= 100, 'not before the timeout');
    await new Promise((r) => setTimeout(r, 200));
    const r = await request(good, '/acked', null);
    assert.equal(r.headers[':status'], 200, 'node:http2 acknowledged: its connection lives past the timeout');
  } finally {
    good.close();
    await srv.close();
  }
});

test('headers timeout: a preface without SETTINGS, or a header block without its CONTINUATION, closes the connection', async () => {
  const srv = await serveEngine(echoApp, { headersTimeoutMs: 150 });
  const enc = new HpackEncoder();
  const block = enc.encode([':method', 'GET', ':scheme', 'http', ':path', '/slow', ':authority', 'x']);
  const good = http2.connect(`http://127.0.0.1:${srv.port}`);
  try {
    const c1 = await RawClient.connect(srv.port);
    c1.write(PREFACE);
    await c1.until(() => c1.goaway() !== undefined);
    assert.equal(c1.goaway()!.code, Http2ErrorCode.ProtocolError, 'preface, then silence');

    const c2 = await RawClient.connect(srv.port);
    const started = Date.now();
    c2.write(PREFACE, frame(FrameType.Settings, 0, 0), frame(FrameType.Headers, 0, 1, block.subarray(0, 3)));
    await c2.until(() => c2.goaway() !== undefined);
    assert.equal(c2.goaway()!.code, Http2ErrorCode.ProtocolError, 'HEADERS without END_HEADERS, CONTINUATION never sent');
    assert.ok(Date.now() - started >= 100);

    await new Promise((r) => setTimeout(r, 200));
    const r = await request(good, '/fine', null);
    assert.equal(r.headers[':status'], 200, 'a connection whose headers complete is untouched');
  } finally {
    good.close();
    await srv.close();
  }
});
