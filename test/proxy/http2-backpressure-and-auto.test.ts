/**
 * HTTP/2 on the data plane beyond gRPC: a slow reader slows its writer through the proxy (memory
 * stays bounded by the windows), Auto detection serves HTTP/2 and HTTP/1.1 on one listener, and an
 * HTTP/1.1 downstream reaches an HTTP/2 upstream.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { cluster, request, startDataplane } from './harness.js';
import { grpcProxyConfig } from './grpc-harness.js';

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

async function h2Upstream(onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void): Promise<string> {
  const up = http2.createServer();
  const live = new Set<http2.ServerHttp2Session>();
  up.on('session', (s) => {
    live.add(s);
    s.on('error', () => {});
  });
  up.on('stream', onStream);
  up.listen(0, '127.0.0.1');
  await once(up, 'listening');
  closers.push(() => {
    for (const s of live) s.destroy();
    up.close();
  });
  return `127.0.0.1:${(up.address() as net.AddressInfo).port}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a downstream that stops reading stops the upstream writer; resuming delivers every byte', async () => {
  const TOTAL = 8 << 20;
  let accepted = 0;
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  const upstream = await h2Upstream((stream) => {
    stream.respond({ ':status': 200 });
    const pump = (): void => {
      while (accepted < TOTAL) {
        accepted += chunk.length;
        if (!stream.write(chunk)) {
          stream.once('drain', pump);
          return;
        }
      }
      stream.end();
    };
    pump();
  });
  const plane = await startDataplane(grpcProxyConfig({ routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [upstream])] }));
  closers.push(() => plane.close());
  const client = http2.connect(`http://${plane.addresses.get('ingress')}`);
  closers.push(() => client.close());
  const req = client.request({ ':path': '/big' });
  req.pause();
  await once(req, 'response');
  // Nobody reads: the upstream fills the windows on both hops and stops.
  let before = -1;
  for (let i = 0; i < 50 && before !== accepted; i++) {
    before = accepted;
    await sleep(40);
  }
  assert.ok(accepted < 3 << 20, `upstream stalled after ${accepted} bytes of ${TOTAL} (windows + watermarks, not the whole body)`);
  let received = 0;
  req.on('data', (c: Buffer) => (received += c.length));
  req.resume();
  await once(req, 'end');
  assert.equal(received, TOTAL);
});

test('an upstream that stops reading stops the downstream uploader', async () => {
  let got = 0;
  let upStream!: http2.ServerHttp2Stream;
  const upstream = await h2Upstream((stream) => {
    upStream = stream;
    stream.pause(); // reads nothing until told
    stream.on('data', (c: Buffer) => (got += c.length));
    stream.on('end', () => {
      stream.respond({ ':status': 200 });
      stream.end(String(got));
    });
  });
  const plane = await startDataplane(grpcProxyConfig({ routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [upstream])] }));
  closers.push(() => plane.close());
  const client = http2.connect(`http://${plane.addresses.get('ingress')}`);
  closers.push(() => client.close());
  const req = client.request({ ':method': 'POST', ':path': '/up' });
  const TOTAL = 8 << 20;
  let sent = 0;
  const chunk = Buffer.alloc(16 * 1024, 0x62);
  let stalled = false;
  const pump = (): void => {
    while (sent < TOTAL) {
      sent += chunk.length;
      if (!req.write(chunk)) {
        req.once('drain', pump);
        return;
      }
    }
    req.end();
  };
  pump();
  let before = -1;
  for (let i = 0; i < 50 && before !== sent; i++) {
    before = sent;
    await sleep(40);
  }
  stalled = sent < TOTAL;
  assert.ok(stalled && sent < 3 << 20, `the uploader stalled after ${sent} bytes of ${TOTAL}`);
  const reply = new Promise<string>((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => resolve(body));
  });
  upStream.resume();
  assert.equal(await reply, String(TOTAL));
});

test('Auto serves HTTP/2 (prior knowledge) and HTTP/1.1 on one listener; HTTP/1.1 reaches an HTTP/2 upstream', async () => {
  const upstream = await h2Upstream((stream, headers) => {
    stream.respond({ ':status': 200, 'x-authority': String(headers[':authority']) });
    stream.end(`via h2 upstream ${headers[':path']}`);
  });
  const plane = await startDataplane(
    grpcProxyConfig({ downstream: 'Auto', upstream: 'Http2', routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [upstream])] }),
  );
  closers.push(() => plane.close());
  const addr = plane.addresses.get('ingress')!;
  const h1 = await request(addr, { path: '/from-h1', keepAlive: false });
  assert.equal(h1.status, 200);
  assert.equal(h1.body, 'via h2 upstream /from-h1');
  assert.equal(h1.headers['x-authority'], addr, 'Host became :authority');
  const client = http2.connect(`http://${addr}`);
  closers.push(() => client.close());
  const body = await new Promise<string>((resolve, reject) => {
    const req = client.request({ ':path': '/from-h2' });
    let b = '';
    req.on('data', (c: Buffer) => (b += c.toString()));
    req.on('end', () => resolve(b));
    req.on('error', reject);
  });
  assert.equal(body, 'via h2 upstream /from-h2');
});
