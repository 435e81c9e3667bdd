import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRingPipeDescriptor, openRingEndpoint } from '../../src/ring/index.js';
import { PipeRegistry } from '../../src/supervisor/pipe-registry.js';

test('when a worker exits, the survivors of its pipes see a reset naming it; other pipes carry on', async () => {
  const registry = new PipeRegistry();
  // Pipe 1 runs worker 0 → worker 1; pipe 2 runs worker 0 → worker 2. Both ends live on this thread,
  // standing in for the two workers, so the reset is observed exactly as a survivor would see it.
  const d1 = createRingPipeDescriptor();
  const d2 = createRingPipeDescriptor();
  const survivor1 = openRingEndpoint(d1, 'a');
  const gone1 = openRingEndpoint(d1, 'b');
  const survivor2 = openRingEndpoint(d2, 'a');
  const peer2 = openRingEndpoint(d2, 'b');
  registry.record(0, 1, d1);
  registry.record(0, 2, d2);
  gone1.unref();

  const closed = new Promise<string | undefined>((resolve) => (survivor1.onClose = resolve));
  assert.equal(registry.workerExited(1), 1);
  assert.equal(await closed, 'worker/1 exited');

  // The pipe to worker 2 still carries bytes.
  const got = new Promise<string>((resolve) => (peer2.onData = (chunk) => resolve(chunk.toString())));
  survivor2.write(Buffer.from('still here'));
  survivor2.flush();
  assert.equal(await got, 'still here');
  assert.equal(survivor2.closed, false);

  // Closing pipe 2 from both ends lets a sweep forget it.
  survivor2.close();
  peer2.close();
  await new Promise((r) => setTimeout(r, 20));
  registry.sweep();
  assert.equal(registry.size, 0);
});
