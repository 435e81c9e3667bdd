/**
 * The dRPC library over real SEQPACKET sockets: modules and methods by id, calls in order, typed
 * bodies, multi-chunk messages both ways, unknown module and method, an undecodable call, failures,
 * timeouts and a peer that closes mid-call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import protobuf from 'protobufjs';
import {
  ClientConnection,
  DomainSocketServer,
  DrpcFailure,
  Module,
  Status,
  encodeCall,
  toPackets,
  decodeResponse,
  ChunkAssembler,
  MAX_CHUNK_DATA_BYTES,
} from '../../src/drpc/index.js';
import { RawPeer, tempDir } from './helpers.js';

const echoRoot = protobuf.parse(`syntax = "proto3"; message Ping { string text = 1; int32 n = 2; } message Pong { string text = 1; int32 n = 2; }`).root;
const Ping = echoRoot.lookupType('Ping');
const Pong = echoRoot.lookupType('Pong');

function echoServer(path: string, opts = {}): DomainSocketServer {
  const mod = new Module(7)
    .method(701, (body) => body)
    .method(702, (body) => Promise.resolve(Buffer.from(body).reverse()))
    .typedMethod<{ text: string; n: number }, { text: string; n: number }>(703, Ping, Pong, (req) => ({ text: req.text.toUpperCase(), n: req.n + 1 }))
    .method(704, () => {
      throw new DrpcFailure(Status.FAILURE, 'told to fail', Buffer.from('why'));
    })
    .method(705, () => Promise.reject(new Error('plain error')))
    .method(706, (_b, ctx) => new Promise<Uint8Array>((resolve) => {
      ctx.cancel.onCancel = () => resolve(Buffer.from('cancelled'));
    }));
  const server = new DomainSocketServer(path, opts);
  server.registerModule(mod);
  server.start();
  return server;
}

test('calls are answered in order with their sequence; typed bodies round-trip through protobufjs', async (t) => {
  const path = join(tempDir(t), 's.sock');
  const server = echoServer(path);
  t.after(() => server.shutdown());
  const client = new ClientConnection(path);
  await client.connect();
  t.after(() => client.close());
  const answers = await Promise.all([1, 2, 3].map((i) => client.sendMsg({ module: 7, method: 701, body: Buffer.from(`m${i}`) })));
  assert.deepEqual(answers.map((a) => a.body.toString()), ['m1', 'm2', 'm3']);
  assert.deepEqual(answers.map((a) => a.sequence), [1, 2, 3], 'the client numbers its calls from 1');
  assert.ok(answers.every((a) => a.status === Status.SUCCESS));
  const rev = await client.sendMsg({ module: 7, method: 702, body: Buffer.from('abc') });
  assert.equal(rev.body.toString(), 'cba');
  const typed = await client.sendMsg({ module: 7, method: 703, body: Ping.encode({ text: 'hi', n: 41 }).finish() });
  assert.equal(typed.status, Status.SUCCESS);
  assert.deepEqual(Pong.toObject(Pong.decode(typed.body)), { text: 'HI', n: 42 });
  const badPayload = await client.sendMsg({ module: 7, method: 703, body: Buffer.from([0xff, 0xff, 0xff]) });
  assert.equal(badPayload.status, Status.FAILED_UNMARSHAL_PAYLOAD);
  assert.equal(statSync(path).mode & 0o777, 0o600, 'the socket file is 0600 by default');
});

test('unknown module and method, failures with and without a body', async (t) => {
  const path = join(tempDir(t), 's.sock');
  const server = echoServer(path, { socketMode: 0o660 });
  t.after(() => server.shutdown());
  assert.equal(statSync(path).mode & 0o777, 0o660, 'the socket mode is configurable');
  const client = new ClientConnection(path);
  await client.connect();
  t.after(() => client.close());
  assert.equal((await client.sendMsg({ module: 8, method: 801 })).status, Status.UNKNOWN_MODULE);
  assert.equal((await client.sendMsg({ module: 7, method: 799 })).status, Status.UNKNOWN_METHOD);
  const f = await client.sendMsg({ module: 7, method: 704 });
  assert.equal(f.status, Status.FAILURE);
  assert.equal(f.body.toString(), 'why');
  const plain = await client.sendMsg({ module: 7, method: 705 });
  assert.equal(plain.status, Status.FAILURE);
  assert.equal(plain.body.length, 0);
  assert.equal((await client.sendMsg({ module: 7, method: 701, body: Buffer.from('still') })).body.toString(), 'still', 'the session goes on');
});

test('method ids follow the module×100 convention', () => {
  assert.throws(() => new Module(10).method(901, () => Buffer.alloc(0)), /must be in 1001…1099/);
  assert.throws(() => new Module(10).method(1100, () => Buffer.alloc(0)), /must be in 1001…1099/);
  assert.doesNotThrow(() => new Module(10).method(1001, () => Buffer.alloc(0)).method(1099, () => Buffer.alloc(0)));
  assert.throws(() => new DomainSocketServer('/tmp/x.sock').registerModule(new Module(3)).registerModule(new Module(3)), /already exists/);
});

test('messages of 300 KiB and more travel in chunks both ways', async (t) => {
  const path = join(tempDir(t), 's.sock');
  const server = echoServer(path);
  t.after(() => server.shutdown());
  const client = new ClientConnection(path);
  await client.connect();
  t.after(() => client.close());
  const body = Buffer.alloc(300 * 1024 + 17);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
  assert.ok(toPackets(encodeCall({ module: 7, method: 702, sequence: 1, body })).length >= 3, 'the call takes at least three chunks');
  const r = await client.sendMsg({ module: 7, method: 702, body });
  assert.equal(r.status, Status.SUCCESS);
  assert.equal(r.body.length, body.length);
  assert.ok(r.body.equals(Buffer.from(body).reverse()), 'every byte arrives, in order');
  // Exactly one full chunk, and one byte more.
  for (const n of [MAX_CHUNK_DATA_BYTES - 8, MAX_CHUNK_DATA_BYTES * 2]) {
    const b = Buffer.alloc(n, 7);
    assert.equal((await client.sendMsg({ module: 7, method: 701, body: b })).body.length, n);
  }
});

test('an undecodable call is answered with sequence -1 and FAILED_UNMARSHAL_CALL; the session goes on', async (t) => {
  const path = join(tempDir(t), 's.sock');
  const server = echoServer(path);
  t.after(() => server.shutdown());
  const peer = new RawPeer(path);
  t.after(() => peer.close());
  peer.send(...toPackets(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])));
  await peer.until(() => peer.packets.length === 1, 3000, 'the answer');
  const a = new ChunkAssembler(1 << 20).push(peer.packets[0]!);
  assert.ok(a.done);
  const resp = decodeResponse(a.message);
  assert.equal(resp.sequence, -1);
  assert.equal(resp.status, Status.FAILED_UNMARSHAL_CALL);
  peer.send(...toPackets(encodeCall({ module: 7, method: 701, sequence: 5, body: Buffer.from('ok') })));
  await peer.until(() => peer.packets.length === 2, 3000, 'the second answer');
  const a2 = new ChunkAssembler(1 << 20).push(peer.packets[1]!);
  assert.ok(a2.done);
  assert.equal(decodeResponse(a2.message).sequence, 5);
  assert.equal(peer.closed, false);
});

test('a call that times out rejects and closes the connection; a peer that closes mid-call cancels it', async (t) => {
  const path = join(tempDir(t), 's.sock');
  const server = echoServer(path);
  t.after(() => server.shutdown());
  const client = new ClientConnection(path, { timeoutMs: 100 });
  await client.connect();
  await assert.rejects(client.sendMsg({ module: 7, method: 706 }), (e: Error & { code?: string }) => e.code === 'TIMEOUT');
  assert.equal(client.connected, false);
  await assert.rejects(client.sendMsg({ module: 7, method: 701 }), /timed out/);
  // The server saw the close and cancelled the call it was running.
  const deadline = Date.now() + 3000;
  while (server.stats().activeSessions !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(server.stats().activeSessions, 0);
  const again = new ClientConnection(path);
  await again.connect();
  t.after(() => again.close());
  assert.equal((await again.sendMsg({ module: 7, method: 701, body: Buffer.from('x') })).body.toString(), 'x', 'the server carries on');
});

test('the package exports the library as ringside/drpc', async () => {
  const name = 'ringside/drpc';
  const lib = (await import(name)) as Record<string, unknown>;
  for (const key of ['DomainSocketServer', 'ClientConnection', 'Module', 'Status', 'DrpcFailure']) assert.equal(typeof lib[key], key === 'Status' ? 'object' : 'function', key);
});
