import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { createRingPipe, createRingPipeDescriptor, openRingEndpoint } from '../../src/ring/index.js';
import { patternChunk, patternSha256 } from './fixtures/pattern.js';
import { nextReport, spawnPeer } from './fixtures/spawn.js';

const TOTAL = 8 * 1024 * 1024;

function* payload(): Generator<Buffer> {
  for (let off = 0; off < TOTAL; off += 50_000) yield Buffer.from(patternChunk(off, Math.min(50_000, TOTAL - off)));
}

function hashSink(): { sink: Writable; digest: () => { bytes: number; sha256: string } } {
  const h = createHash('sha256');
  let bytes = 0;
  // A slow consumer (small highWaterMark, async callback) so backpressure reaches the ring.
  const sink = new Writable({
    highWaterMark: 16384,
    write(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      bytes += chunk.length;
      setImmediate(cb);
    },
  });
  return { sink, digest: () => ({ bytes, sha256: h.digest('hex') }) };
}

test('stream.pipeline carries a large payload through the Duplex of a same-thread pipe', async () => {
  const { a, b } = createRingPipe({ capacity: 65536 });
  const { sink, digest } = hashSink();
  await Promise.all([pipeline(Readable.from(payload()), a.toDuplex()), pipeline(b.toDuplex(), sink)]);
  const d = digest();
  assert.equal(d.bytes, TOTAL);
  assert.equal(d.sha256, await patternSha256(TOTAL));
});

test('stream.pipeline through a worker that echoes: the payload comes back intact', async () => {
  const descriptor = createRingPipeDescriptor({ capacity: 65536 });
  const echo = spawnPeer({ role: 'echo', descriptor, side: 'b' });
  try {
    await nextReport(echo, 'open');
    const duplex = openRingEndpoint(descriptor, 'a').toDuplex();
    const { sink, digest } = hashSink();
    await Promise.all([pipeline(Readable.from(payload()), duplex), pipeline(duplex, sink)]);
    const d = digest();
    assert.equal(d.bytes, TOTAL);
    assert.equal(d.sha256, await patternSha256(TOTAL));
  } finally {
    await echo.terminate();
  }
});

test('destroy(err) on one Duplex resets the pipe: the other Duplex errors with the reason', async () => {
  const { a, b } = createRingPipe();
  const da = a.toDuplex();
  const db = b.toDuplex();
  db.resume();
  const failed = new Promise<Error>((resolve) => db.once('error', resolve));
  const own = new Promise<Error>((resolve) => da.once('error', resolve));
  da.destroy(new Error('handler threw'));
  assert.equal((await own).message, 'handler threw');
  const err = await failed;
  assert.match(err.message, /reset: handler threw/);
  assert.equal((err as Error & { code?: string }).code, 'UNAVAILABLE');
});
