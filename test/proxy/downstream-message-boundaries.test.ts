/**
 * How the proxy treats the end of a downstream's conversation: a half-closed client still gets its
 * answer, nothing after a connection's last request is executed upstream, and one request never gets
 * two answers.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { cluster, proxyConfig, rawExchange, startDataplane, startUpstream, type Dataplane, type Upstream } from './harness.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

async function setup(): Promise<{ u: Upstream; addr: string }> {
  const u = await startUpstream((req, res) => res.end(`answer for ${req.url}`));
  closers.push(() => u.close());
  const d: Dataplane = await startDataplane(
    proxyConfig({ routes: [{ match: { prefix: '/known' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [u.address])] }),
  );
  closers.push(() => d.close());
  return { u, addr: d.addresses.get('ingress')! };
}

const statusLines = (text: string): string[] => text.match(/HTTP\/1\.[01] \d{3}[^\r]*/g) ?? [];
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 100));

test('a client that half-closes after its request still receives the answer', async () => {
  const { u, addr } = await setup();
  const [host, port] = addr.split(':');
  const socket = net.connect(Number(port), host);
  await once(socket, 'connect');
  socket.setEncoding('latin1');
  let text = '';
  socket.on('data', (d: string) => (text += d));
  socket.end('GET /known/half HTTP/1.1\r\nHost: x\r\n\r\n');
  await Promise.race([once(socket, 'close'), new Promise((r) => setTimeout(r, 3000))]);
  socket.destroy();
  assert.deepEqual(statusLines(text), ['HTTP/1.1 200 OK']);
  assert.ok(text.endsWith('answer for /known/half'), text);
  assert.equal(u.requests.length, 1);
});

test('requests pipelined after Connection: close are not executed upstream', async () => {
  const { u, addr } = await setup();
  const r = await rawExchange(
    addr,
    'GET /known/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' +
      'GET /known/2 HTTP/1.1\r\nHost: x\r\n\r\n' +
      'POST /known/3 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab',
  );
  await settle();
  assert.equal(r.closed, true);
  assert.deepEqual(statusLines(r.text), ['HTTP/1.1 200 OK']);
  assert.deepEqual(u.requests.map((q) => q.url), ['/known/1']);
});

test('requests pipelined after an HTTP/1.0 request without keep-alive are not executed upstream', async () => {
  const { u, addr } = await setup();
  const r = await rawExchange(addr, 'GET /known/a HTTP/1.0\r\nHost: x\r\n\r\nGET /known/b HTTP/1.1\r\nHost: x\r\n\r\n');
  await settle();
  assert.equal(r.closed, true);
  assert.equal(statusLines(r.text).length, 1, r.text);
  assert.deepEqual(u.requests.map((q) => q.url), ['/known/a']);
});

test('an HTTP/1.0 keep-alive request lets the next pipelined request through', async () => {
  const { u, addr } = await setup();
  const r = await rawExchange(
    addr,
    'GET /known/a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\nGET /known/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  );
  assert.equal(statusLines(r.text).length, 2, r.text);
  assert.deepEqual(u.requests.map((q) => q.url), ['/known/a', '/known/b']);
});

test('an early 404 followed by a broken chunked body is the only answer to that request', async () => {
  const { u, addr } = await setup();
  const r = await rawExchange(
    addr,
    'POST /unknown HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbroken\r\n' +
      'GET /known/after HTTP/1.1\r\nHost: x\r\n\r\n',
  );
  await settle();
  assert.equal(r.closed, true, 'the connection ends: its framing is lost');
  assert.deepEqual(statusLines(r.text), ['HTTP/1.1 404 Not Found']);
  assert.equal(u.requests.length, 0, 'nothing after the broken body reached the upstream');
});

test('a broken chunked body split from its early 404 still gets exactly one answer', async () => {
  const { addr } = await setup();
  const [host, port] = addr.split(':');
  const socket = net.connect(Number(port), host);
  await once(socket, 'connect');
  socket.setEncoding('latin1');
  let text = '';
  socket.on('data', (d: string) => (text += d));
  socket.write('POST /unknown HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
  while (!text.includes('\r\n\r\n')) await new Promise((r) => setTimeout(r, 5));
  socket.write('zz\r\n');
  await Promise.race([once(socket, 'close'), new Promise((r) => setTimeout(r, 3000))]);
  socket.destroy();
  assert.deepEqual(statusLines(text), ['HTTP/1.1 404 Not Found']);
});

test('a TLS ClientHello sent to the HTTP port is answered 400 and closed at once', async () => {
  const { u, addr } = await setup();
  const hello = Buffer.from('16030100f4010000f00303' + 'ab'.repeat(32) + '00', 'hex').toString('latin1');
  const started = Date.now();
  const r = await rawExchange(addr, hello, 1500);
  assert.equal(r.closed, true, 'closed without waiting for more bytes');
  assert.ok(Date.now() - started < 1000);
  assert.deepEqual(statusLines(r.text), ['HTTP/1.1 400 Bad Request']);
  assert.equal(u.requests.length, 0);
});

test('an upstream that answers 101 Switching Protocols is answered 502 (no tunnels)', async () => {
  const server = net.createServer((s) => {
    s.once('data', () => s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello'));
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(async () => void server.close());
  const upstream = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const d = await startDataplane(proxyConfig({ routes: [{ match: { prefix: '/' }, route: { cluster_name: 'ws' } }], clusters: [cluster('ws', [upstream])] }));
  closers.push(() => d.close());
  const r = await rawExchange(
    d.addresses.get('ingress')!,
    'GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    1500,
  );
  assert.deepEqual(statusLines(r.text), ['HTTP/1.1 502 Bad Gateway']);
  assert.ok(!r.text.includes('hello'), 'no upstream tunnel bytes reached the client');
});
