import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRingPipeDescriptor, openRingEndpoint } from '../../src/ring/index.js';
import { exited, nextReport, spawnPeer } from './fixtures/spawn.js';

test('a parked reader keeps its worker alive until bytes arrive', async () => {
  const descriptor = createRingPipeDescriptor();
  const w = spawnPeer({ role: 'idle', descriptor, side: 'b' });
  let gone = false;
  const exit = exited(w).then((c) => {
    gone = true;
    return c;
  });
  try {
    await nextReport(w, 'open');
    // Nothing but the parked end (an Atomics.waitAsync) is pending in that worker.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(gone, false, 'the worker did not exit under its parked reader');
    const a = openRingEndpoint(descriptor, 'a');
    const data = nextReport(w, 'data');
    a.write(Buffer.from('wake up'));
    assert.equal((await data).bytes, 7);
    a.close();
    // The worker's end closes after the graceful close; nothing holds it any longer.
    assert.equal(await exit, 0);
  } finally {
    await w.terminate();
  }
});

test('an unref()ed end lets its worker exit', async () => {
  const w = spawnPeer({ role: 'idle', descriptor: createRingPipeDescriptor(), side: 'b', unref: true });
  assert.equal(await exited(w), 0);
});

test('a closed end lets its worker exit', async () => {
  const w = spawnPeer({ role: 'idle', descriptor: createRingPipeDescriptor(), side: 'b', closeAtOnce: true });
  assert.equal(await exited(w), 0);
});
