/**
 * The socket write path: writes made from different callbacks of one event-loop turn leave in one
 * socket write at the end of that turn (never later), written bytes are copied on arrival (a caller's
 * buffer may be reused at once), and the direct handle writes keep backpressure and half-close order
 * against a peer that stops reading.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { FilterStatus } from '../../src/types/network.js';
import type { ListenerEventListener } from '../../src/types/network.js';
import { TcpListener } from '../../src/network/listeners/tcp-listener.js';
import type { ConnectionImpl } from '../../src/network/connection/connection.js';
import { settings, waitFor } from './helpers.js';

/** Whatever a failed test left open is closed at the end, so the file still exits. */
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

/** A listener whose connections run `onData` on each read; resolves the accepted connection and a client. */
async function serve(name: string, onData: (conn: ConnectionImpl, data: Buffer) => void) {
  let accepted: ConnectionImpl | null = null;
  let reads = 0;
  const events: ListenerEventListener = { onAccept: (c) => (accepted = c as ConnectionImpl) };
  const l = new TcpListener({
    ...settings(name, [
      (conn, chain) =>
        chain.addReadFilter({
          initializeReadFilterCallbacks() {},
          onNewConnection: () => FilterStatus.Continue,
          onData: (d) => {
            if (reads++ > 0) onData(conn as ConnectionImpl, d);
            return FilterStatus.Stop;
          },
        }),
    ], { eventListeners: [events] }),
    host: '127.0.0.1',
    port: 0,
  });
  await l.start();
  const client = net.connect(l.port, '127.0.0.1');
  await once(client, 'connect');
  client.write('hello');
  await waitFor(() => accepted !== null && reads > 0);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    client.destroy();
    await l.stopAccepting();
    l.closeConnections('test over');
  };
  cleanups.push(stop);
  return { conn: () => accepted!, client, stop };
}

test('writes from two callbacks of one turn leave as one socket write, before the turn ends', async () => {
  const s = await serve('turn', () => {});
  const conn = s.conn();
  let got = '';
  s.client.on('data', (d: Buffer) => (got += d.toString()));
  const before = conn.writeCalls;
  let afterTurn = -1;
  // One timer callback, then a microtask queued behind the first write's bookkeeping: a microtask
  // checkpoint separates the two writes (a flush at the checkpoint would send them apart), and
  // both run in the same timers phase, whatever the machine's load (two timers might not).
  await new Promise<void>((resolve) => {
    setTimeout(() => {
      conn.write(Buffer.from('one '));
      queueMicrotask(() =>
        queueMicrotask(() => {
          conn.write(Buffer.from('two'));
          // Queued after the connection's end-of-turn flush: it sees what that flush did.
          setImmediate(() => {
            afterTurn = conn.writeCalls - before;
            resolve();
          });
        }),
      );
    }, 1);
  });
  assert.equal(afterTurn, 1, 'both writes went out in one socket write within the turn');
  await waitFor(() => got === 'one two');
  await s.stop();
});

test('a written buffer may be reused as soon as write() returns', async () => {
  const s = await serve('copy', (conn, d) => {
    if (d.toString() !== 'go') return;
    const scratch = Buffer.from('first ');
    conn.write(scratch);
    scratch.write('XXXXXX'); // the caller reuses its buffer at once, as a read loop does
    conn.write(Buffer.from('second'));
  });
  let got = '';
  s.client.on('data', (d: Buffer) => (got += d.toString()));
  s.client.write('go');
  await waitFor(() => got.length >= 12);
  assert.equal(got, 'first second');
  await s.stop();
});

test('a peer that stops reading raises the watermark; every byte arrives in order once it reads', async () => {
  const chunk = Buffer.alloc(64 * 1024);
  const total = 128; // 8 MiB: far beyond what the socket buffers hold
  const marks: boolean[] = [];
  const s = await serve('slow', (conn, d) => {
    if (d.toString() !== 'flood') return;
    conn.addWatermarkListener((above) => marks.push(above));
    for (let i = 0; i < total; i++) conn.write(chunk.fill(i % 251));
  });
  s.client.pause();
  s.client.write('flood');
  await waitFor(() => marks.includes(true));
  // A write made above the watermark waits in the connection until the transport drains.
  s.conn().write(chunk.fill(total % 251));
  await new Promise((r) => setImmediate(r));
  assert.equal(s.conn().queuedWriteBytes, chunk.length, 'the write above the watermark waits');
  let received = 0;
  let inOrder = true;
  s.client.on('data', (d: Buffer) => {
    for (let j = 0; j < d.length; j += 4096) {
      if (d[j] !== Math.floor((received + j) / chunk.length) % 251) inOrder = false;
    }
    received += d.length;
  });
  s.client.resume();
  await waitFor(() => received === (total + 1) * chunk.length, 10_000);
  assert.ok(inOrder, 'bytes arrived in the order written');
  await waitFor(() => marks[marks.length - 1] === false);
  assert.deepEqual(marks, [true, false]);
  await s.stop();
});

test('a half-close after writes a slow peer has not read yet reaches it after the last byte', async () => {
  const size = 4 * 1024 * 1024;
  const s = await serve('halfclose', (conn, d) => {
    if (d.toString() !== 'send') return;
    conn.write(Buffer.alloc(size, 97));
    conn.endWrite();
  });
  s.client.pause();
  s.client.write('send');
  await new Promise((r) => setTimeout(r, 50));
  let received = 0;
  let bad = false;
  s.client.on('data', (d: Buffer) => {
    if (d.some((b) => b !== 97)) bad = true;
    received += d.length;
  });
  const ended = once(s.client, 'end');
  s.client.resume();
  await ended;
  assert.equal(received, size, 'every byte before the end of stream');
  assert.equal(bad, false);
  await s.stop();
});

test('a write made while the write loop is busy (from its watermark callback) is copied at once too', async () => {
  const size = 4 * 1024 * 1024;
  const s = await serve('reentrant', (conn, d) => {
    if (d.toString() !== 'go') return;
    conn.addWatermarkListener((above) => {
      if (!above) return;
      // Runs inside the write loop's flush: this write waits in its mailbox.
      const scratch = Buffer.from('tail');
      conn.write(scratch);
      scratch.write('XXXX');
    });
    conn.write(Buffer.alloc(size, 97));
  });
  s.client.pause();
  s.client.write('go');
  await new Promise((r) => setTimeout(r, 50));
  const parts: Buffer[] = [];
  let received = 0;
  s.client.on('data', (d: Buffer) => {
    parts.push(d);
    received += d.length;
  });
  s.client.resume();
  await waitFor(() => received >= size + 4, 10_000);
  assert.equal(Buffer.concat(parts).subarray(size).toString(), 'tail');
  await s.stop();
});
