import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRingPipeDescriptor, openRingEndpoint, resetRingPipe } from '../../src/ring/index.js';
import { exited, nextReport, spawnPeer } from './fixtures/spawn.js';

test('a worker that crashes mid-write: the survivor learns through a reset, its other pipes keep working', async () => {
  const crashed = createRingPipeDescriptor({ capacity: 16384 });
  const healthy = createRingPipeDescriptor();
  // The survivor reads the crashing worker's pipe (side b) and echoes on a second pipe.
  const survivor = spawnPeer({ role: 'echo', descriptor: crashed, side: 'b', extra: healthy });
  const writer = spawnPeer({ role: 'crash-writer', descriptor: crashed, side: 'a', bytes: 200_000 });
  writer.on('error', () => {}); // the crash is the point of this test
  try {
    await nextReport(survivor, 'open');
    const code = await exited(writer);
    assert.notEqual(code, 0, 'the writer crashed');
    // What the supervisor does when a worker exits: reset every pipe that worker held.
    const closed = nextReport(survivor, 'closed');
    resetRingPipe(crashed, 'peer worker exited with code ' + code);
    const seen = await closed;
    assert.equal(seen.reason, 'peer worker exited with code ' + code);
    assert.equal(seen.pipeId, crashed.pipeId);

    const other = openRingEndpoint(healthy, 'a');
    const back = new Promise<string>((resolve) => {
      let got = '';
      other.onData = (c) => {
        got += c.toString();
        if (got.length >= 5) resolve(got);
      };
    });
    other.write(Buffer.from('alive'));
    assert.equal(await back, 'alive');
    other.reset('test over');
  } finally {
    await survivor.terminate();
  }
});
