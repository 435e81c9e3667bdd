/**
 * Bad input fails that session only: garbage packets, chunks out of order, lying chunk headers, a
 * truncated packet, a message past the size limit, a packet larger than 1 << 17. Each time the
 * server closes that session (no answer), counts it, and keeps serving a second session that was
 * open all along.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ClientConnection, DomainSocketServer, Module, Status, encodeCall, toPackets, writeHeader, HEADER_BYTES } from '../../src/drpc/index.js';
import { RawPeer, tempDir } from './helpers.js';

function header(total: number, chunk: number, idx: number, chunks: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  writeHeader(b, 0, total, chunk, idx, chunks);
  return b;
}

function packet(total: number, idx: number, chunks: number, data: Buffer, claimed = data.length): Buffer {
  return Buffer.concat([header(total, claimed, idx, chunks), data]);
}

const call = encodeCall({ module: 7, method: 701, sequence: 1, body: Buffer.alloc(200_000, 3) });
const parts = toPackets(call);

const cases: [string, () => Buffer[]][] = [
  ['a garbage packet shorter than a header', () => [Buffer.from('garbage')]],
  ['random bytes of header size and more', () => [Buffer.from('0123456789abcdef0123456789abcdef-not-a-header')]],
  ['a chunk out of order (chunk 1 first)', () => [parts[1]!]],
  ['chunks swapped after the first', () => [parts[0]!, Buffer.concat([header(call.length, parts[1]!.length - HEADER_BYTES, 2, parts.length), parts[1]!.subarray(HEADER_BYTES)])]],
  ['a header that claims more data than the packet carries', () => [packet(10, 0, 1, Buffer.alloc(4), 10)]],
  ['a truncated packet (the message ends early)', () => [packet(call.length, 0, 1, Buffer.from(call.subarray(0, 100)))]],
  ['a total size that changes between chunks', () => [parts[0]!, packet(call.length + 1, 1, parts.length, parts[1]!.subarray(HEADER_BYTES))]],
  ['a total chunk count that changes', () => [parts[0]!, packet(call.length, 1, parts.length + 1, parts[1]!.subarray(HEADER_BYTES))]],
  ['chunks that overflow the announced size', () => [packet(10, 0, 2, Buffer.alloc(6)), packet(10, 1, 2, Buffer.alloc(6))]],
  ['2^32-1 empty chunks announced', () => [packet(0, 0, 0xffffffff, Buffer.alloc(0))]],
  ['a message past the size limit', () => [packet(64 * 1024 * 1024, 0, 600, Buffer.alloc(1000))]],
  ['a size_t total near 2^64', () => [Buffer.concat([Buffer.from('ffffffffffffffff', 'hex'), Buffer.from('0400000000000000', 'hex'), Buffer.alloc(4), Buffer.from('01000000', 'hex'), Buffer.alloc(4)])]],
  ['a packet larger than 1 << 17 bytes', () => [packet(200_000, 0, 1, Buffer.alloc((1 << 17) + 100))]],
];

test('each kind of bad input closes that session only', async (t) => {
  const path = join(tempDir(t), 's.sock');
  const server = new DomainSocketServer(path, { maxMessageBytes: 1024 * 1024 });
  server.registerModule(new Module(7).method(701, (b) => b));
  server.start();
  t.after(() => server.shutdown());
  const bystander = new ClientConnection(path);
  await bystander.connect();
  t.after(() => bystander.close());

  for (const [name, make] of cases) {
    const peer = new RawPeer(path);
    try {
      peer.send(...make());
      await peer.until(() => peer.closed, 3000, `the server to close the session (${name})`);
    } catch (err) {
      peer.close();
      throw err;
    }
    assert.equal(peer.packets.length, 0, `${name}: no answer`);
    const r = await bystander.sendMsg({ module: 7, method: 701, body: Buffer.from(name) });
    assert.equal(r.status, Status.SUCCESS, `${name}: the other session carries on`);
    assert.equal(r.body.toString(), name);
  }
  // The oversized packet never reaches the assembler (it fails in recv), all others do.
  assert.equal(server.stats().failedSessions, cases.length - 1);
  assert.equal(server.stats().activeSessions, 1, 'only the bystander is left');
});

test('a well-formed message split into small chunks is accepted (chunk size is the sender\'s choice)', async (t) => {
  const path = join(tempDir(t), 's.sock');
  const server = new DomainSocketServer(path);
  server.registerModule(new Module(7).method(701, (b) => b));
  server.start();
  t.after(() => server.shutdown());
  const peer = new RawPeer(path);
  t.after(() => peer.close());
  const msg = Buffer.from(encodeCall({ module: 7, method: 701, sequence: 9, body: Buffer.from('small chunks') }));
  const n = 4;
  const size = Math.ceil(msg.length / n);
  const packets = [];
  for (let i = 0; i < n; i++) packets.push(packet(msg.length, i, n, msg.subarray(i * size, Math.min(msg.length, (i + 1) * size))));
  peer.send(...packets);
  await peer.until(() => peer.packets.length === 1, 3000, 'the answer');
  assert.equal(peer.closed, false);
});
