import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRingPipeDescriptor, openRingEndpoint, resetRingPipe } from '../../src/ring/index.js';
import { nextReport, spawnPeer } from './fixtures/spawn.js';

test('a reset from the peer thread reaches this end with its reason', async () => {
  const descriptor = createRingPipeDescriptor();
  const a = openRingEndpoint(descriptor, 'a');
  const closed = new Promise<string | undefined>((resolve) => {
    a.onClose = resolve;
  });
  const peer = spawnPeer({ role: 'echo', descriptor, side: 'b' });
  try {
    await nextReport(peer, 'open');
    peer.postMessage({ type: 'reset', reason: 'upstream went away: ünïcode ok' });
    assert.equal(await closed, 'upstream went away: ünïcode ok');
    assert.equal(a.closed, true);
    assert.equal(a.write(Buffer.from('x')), false);
  } finally {
    await peer.terminate();
  }
});

test('a reset from this thread wakes a parked peer, which sees the reason', async () => {
  const descriptor = createRingPipeDescriptor();
  const a = openRingEndpoint(descriptor, 'a');
  const peer = spawnPeer({ role: 'echo', descriptor, side: 'b' });
  try {
    await nextReport(peer, 'open');
    // Give the peer time to park on its doorbell.
    await new Promise((r) => setTimeout(r, 50));
    const seen = nextReport(peer, 'closed');
    a.reset('client cancelled');
    assert.equal((await seen).reason, 'client cancelled');
  } finally {
    await peer.terminate();
  }
});

test('resetRingPipe from a third thread resets both ends', async () => {
  const descriptor = createRingPipeDescriptor();
  const left = spawnPeer({ role: 'echo', descriptor, side: 'a' });
  const right = spawnPeer({ role: 'echo', descriptor, side: 'b' });
  try {
    await Promise.all([nextReport(left, 'open'), nextReport(right, 'open')]);
    const seen = Promise.all([nextReport(left, 'closed'), nextReport(right, 'closed')]);
    assert.equal(resetRingPipe(descriptor, 'supervisor says so'), true);
    assert.equal(resetRingPipe(descriptor, 'second reset'), false, 'the first reset wins');
    const [l, r] = await seen;
    assert.equal(l.reason, 'supervisor says so');
    assert.equal(r.reason, 'supervisor says so');
  } finally {
    await Promise.all([left.terminate(), right.terminate()]);
  }
});
