import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { createRingPipe, createRingPipeDescriptor } from '../../src/ring/index.js';
import { patternChunk, patternSha256 } from './fixtures/pattern.js';
import { nextReport, spawnPeer } from './fixtures/spawn.js';

// A small ring and a payload hundreds of times its size: every byte position wraps many times, and
// chunk sizes that do not divide the capacity split writes and reads across the wrap point.
const CAPACITY = 4096;
const TOTAL = 1_500_000;

test('same thread: bytes arrive in order and intact across wrap-around', async () => {
  const { a, b } = createRingPipe({ capacity: CAPACITY });
  const hash = createHash('sha256');
  let received = 0;
  const ended = new Promise<void>((resolve) => {
    b.onEnd = resolve;
  });
  b.onData = (chunk) => {
    hash.update(chunk);
    received += chunk.length;
  };
  let sent = 0;
  let seed = 7;
  const pump = (): void => {
    while (sent < TOTAL) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const n = Math.min(1 + (seed % 3000), TOTAL - sent);
      const ok = a.write(patternChunk(sent, n));
      sent += n;
      if (!ok) return;
    }
    a.end();
  };
  a.onDrain = pump;
  pump();
  await ended;
  assert.equal(received, TOTAL);
  assert.equal(hash.digest('hex'), await patternSha256(TOTAL));
});

test('two worker threads: bytes arrive in order and intact across wrap-around', async () => {
  const descriptor = createRingPipeDescriptor({ capacity: CAPACITY });
  const sink = spawnPeer({ role: 'sink', descriptor, side: 'b' });
  const source = spawnPeer({ role: 'source', descriptor, side: 'a', bytes: TOTAL });
  try {
    const sunk = await nextReport(sink, 'sunk', 15000);
    assert.equal(sunk.bytes, TOTAL);
    assert.equal(sunk.sha256, await patternSha256(TOTAL));
  } finally {
    await Promise.all([sink.terminate(), source.terminate()]);
  }
});
