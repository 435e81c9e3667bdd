import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRingPipe, createRingPipeDescriptor, openRingEndpoint } from '../../src/ring/index.js';
import { patternChunk, patternSha256 } from './fixtures/pattern.js';
import { nextReport, spawnPeer } from './fixtures/spawn.js';

test('same thread: a full ring makes write return false, holds only the remainder, drains later', async () => {
  const { a, b } = createRingPipe({ capacity: 1024 });
  b.pause();
  const got: Buffer[] = [];
  b.onData = (c) => got.push(Buffer.from(c));
  let drains = 0;
  a.onDrain = () => drains++;
  assert.equal(a.write(patternChunk(0, 1000)), true);
  assert.equal(a.write(patternChunk(1000, 1000)), false, 'the second write overflows a 1 KiB ring');
  // The paused reader reads nothing, so the ring stays full and nothing drains.
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(got.length, 0);
  assert.equal(drains, 0);
  b.resume();
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(drains, 1);
  const all = Buffer.concat(got);
  assert.deepEqual(all, Buffer.from(patternChunk(0, 2000)));
});

test('cross-thread: a writer facing a paused reader gets false, its thread stays responsive, no byte is lost', async () => {
  const TOTAL = 300_000;
  const descriptor = createRingPipeDescriptor({ capacity: 16384 });
  // The reader starts paused for 300 ms: the writer (this thread) fills the ring and must wait.
  const sink = spawnPeer({ role: 'sink', descriptor, side: 'b', pauseMs: 300 });
  const a = openRingEndpoint(descriptor, 'a');
  try {
    await nextReport(sink, 'open');
    let sent = 0;
    let falses = 0;
    const t0 = performance.now();
    let timerAt = -1;
    setTimeout(() => {
      timerAt = performance.now() - t0;
    }, 20);
    const done = new Promise<void>((resolve) => {
      const pump = (): void => {
        while (sent < TOTAL) {
          const n = Math.min(7000, TOTAL - sent);
          const ok = a.write(patternChunk(sent, n));
          sent += n;
          if (!ok) {
            falses++;
            return;
          }
        }
        a.end();
        resolve();
      };
      a.onDrain = pump;
      pump();
    });
    await done;
    assert.ok(falses > 0, 'write returned false at least once');
    assert.ok(timerAt >= 0 && timerAt < 250, `a timer on the writer's thread fired while the ring was full (at ${timerAt} ms)`);
    const sunk = await nextReport(sink, 'sunk', 10000);
    assert.equal(sunk.bytes, TOTAL);
    assert.equal(sunk.sha256, await patternSha256(TOTAL));
  } finally {
    a.reset('test over');
    await sink.terminate();
  }
});
