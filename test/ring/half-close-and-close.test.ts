import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRingPipe } from '../../src/ring/index.js';
import type { RingEndpoint } from '../../src/types/ring.js';

function record(ep: RingEndpoint): { events: string[]; closed: Promise<string | undefined> } {
  const events: string[] = [];
  ep.onData = (c) => events.push(`data:${c.toString()}`);
  ep.onEnd = () => events.push('end');
  const closed = new Promise<string | undefined>((resolve) => {
    ep.onClose = (reason) => {
      events.push(`close:${reason ?? ''}`);
      resolve(reason);
    };
  });
  return { events, closed };
}

const tick = (ms = 10): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('half-close both ways: each side still writes after the other ended, closes when both did', async () => {
  const { a, b } = createRingPipe();
  const ra = record(a);
  const rb = record(b);
  a.write(Buffer.from('ping'));
  a.end();
  await tick();
  assert.deepEqual(rb.events, ['data:ping', 'end']);
  assert.equal(a.closed, false, 'a half-closed end is not closed');
  b.write(Buffer.from('pong'));
  await tick();
  assert.deepEqual(ra.events, ['data:pong']);
  b.end();
  assert.equal(await ra.closed, undefined);
  assert.equal(await rb.closed, undefined);
  assert.deepEqual(ra.events, ['data:pong', 'end', 'close:']);
  assert.deepEqual(rb.events, ['data:ping', 'end', 'close:']);
  assert.equal(a.write(Buffer.from('late')), false, 'writes after close are refused');
});

test('close delivers pending bytes, then the peer sees end and close', async () => {
  const { a, b } = createRingPipe();
  const ra = record(a);
  const rb = record(b);
  a.write(Buffer.from('last words'));
  a.close();
  assert.equal(a.closed, true);
  assert.equal(await rb.closed, undefined);
  assert.equal(await ra.closed, undefined);
  assert.deepEqual(rb.events, ['data:last words', 'end', 'close:']);
  assert.deepEqual(ra.events, ['close:']);
});

test('reset on one thread: both ends close with the reason, without waiting for data', async () => {
  const { a, b } = createRingPipe();
  const ra = record(a);
  const rb = record(b);
  b.pause();
  a.write(Buffer.from('never read'));
  a.reset('deadline exceeded');
  assert.equal(await rb.closed, 'deadline exceeded');
  assert.equal(await ra.closed, 'deadline exceeded');
  assert.deepEqual(rb.events, ['close:deadline exceeded']);
});
