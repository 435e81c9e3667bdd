/**
 * A drain tells every downstream connection to go away: idle keep-alive connections close at once,
 * busy ones finish their request and close after it with Connection: close, and nothing pipelined
 * behind the last request taken is executed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { cluster, proxyConfig, startDataplane, startUpstream } from './harness.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

interface Client {
  socket: net.Socket;
  text(): string;
  closed: Promise<number>;
}
async function client(addr: string): Promise<Client> {
  const [host, port] = addr.split(':');
  const socket = net.connect(Number(port), host);
  await once(socket, 'connect');
  socket.setEncoding('latin1');
  let text = '';
  socket.on('data', (d: string) => (text += d));
  socket.on('error', () => {});
  closers.push(async () => void socket.destroy());
  return { socket, text: () => text, closed: once(socket, 'close').then(() => Date.now()) };
}
const until = async (f: () => boolean): Promise<void> => {
  const end = Date.now() + 3000;
  while (!f() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.ok(f(), 'condition reached');
};

test('drain closes idle keep-alive connections at once and lets busy ones finish with Connection: close', async () => {
  const held: (() => void)[] = [];
  const u = await startUpstream((req, res) => {
    if (req.url === '/slow') held.push(() => res.end('slow done'));
    else res.end('fast');
  });
  closers.push(() => u.close());
  const d = await startDataplane(proxyConfig({ routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [u.address])] }));
  closers.push(() => d.close());
  const addr = d.addresses.get('ingress')!;

  const idle = await client(addr);
  idle.socket.write('GET /fast HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => idle.text().endsWith('fast'));

  const busy = await client(addr);
  busy.socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => held.length === 1);

  const drainStarted = Date.now();
  const stopping = d.network.stopAccepting();
  const idleClosedAt = await Promise.race([idle.closed, new Promise<number>((r) => setTimeout(() => r(-1), 2000))]);
  assert.notEqual(idleClosedAt, -1, 'the idle keep-alive connection was closed');
  assert.ok(idleClosedAt - drainStarted < 1000, 'at once, not at the drain deadline');
  assert.equal(busy.socket.destroyed, false, 'the busy connection is still open');
  // Pipelined after the drain began: not taken.
  busy.socket.write('GET /fast?pipelined HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 50));

  held[0]!();
  await Promise.race([busy.closed, new Promise((r) => setTimeout(r, 2000))]);
  await stopping;
  const text = busy.text();
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /\r\nConnection: close\r\n/i, 'the last response tells the client to go away');
  assert.ok(text.endsWith('slow done'));
  assert.equal((text.match(/HTTP\/1\.1 /g) ?? []).length, 1, 'the request pipelined behind it was not taken');
  assert.deepEqual(u.requests.map((q) => q.url), ['/fast', '/slow']);
  assert.equal(busy.socket.destroyed || busy.socket.readableEnded, true);
});

test('a head arriving when the drain begins is still answered, with Connection: close', async () => {
  const u = await startUpstream((_req, res) => res.end('served'));
  closers.push(() => u.close());
  const d = await startDataplane(proxyConfig({ routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [u.address])] }));
  closers.push(() => d.close());
  const c = await client(d.addresses.get('ingress')!);
  c.socket.write('GET /half HTTP/1.1\r\nHo');
  await new Promise((r) => setTimeout(r, 50));
  await d.network.stopAccepting();
  c.socket.write('st: x\r\n\r\n');
  await Promise.race([c.closed, new Promise((r) => setTimeout(r, 2000))]);
  assert.match(c.text(), /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(c.text(), /\r\nConnection: close\r\n/i);
  assert.ok(c.text().endsWith('served'));
});
