/**
 * In-process listeners: a dial by name on the same worker gets a RingPipe end served by the
 * listener's filter chain; a pipe dialed from another thread is accepted through acceptRemote; unknown
 * names and stopped listeners are refused with a reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { createRingPipeDescriptor, openRingEndpoint } from '../../src/ring/index.js';
import type { RingEndpoint } from '../../src/types/ring.js';
import { InProcessListener, InProcessListeners } from '../../src/network/listeners/inprocess.js';
import { echoChain, settings, waitFor } from './helpers.js';

function collect(ep: RingEndpoint): { text: () => string; closed: () => boolean } {
  let got = '';
  let closed = false;
  ep.onData = (chunk) => (got += chunk.toString());
  ep.onClose = () => (closed = true);
  return { text: () => got, closed: () => closed };
}

test('dial by name on one worker: bytes go through the listener chain and back over the RingPipe', async () => {
  const table = new InProcessListeners();
  const l = new InProcessListener(settings('egress', [echoChain('local:')]), table, ['egress']);
  await l.start();
  const a = table.dial('egress');
  const rx = collect(a);
  a.write(Buffer.from('hello'));
  await waitFor(() => rx.text() === 'local:hello');
  assert.equal(l.stats().activeConnections, 1);
  a.close();
  await waitFor(() => l.stats().activeConnections === 0);
  assert.equal(l.stats().totalConnections, 1);

  assert.throws(() => table.dial('nope'), /no in-process listener "nope"/);
  await l.stopAccepting();
  assert.throws(() => table.dial('egress'), /no in-process listener "egress"/);
});

test('a pipe dialed on another thread is accepted by acceptRemote on the worker that owns the listener', async () => {
  const worker = new Worker(new URL('./fixtures/inproc-worker.js', import.meta.url));
  try {
    await once(worker, 'message'); // ready
    const descriptor = createRingPipeDescriptor();
    const a = openRingEndpoint(descriptor, 'a');
    const rx = collect(a);
    worker.postMessage({ listener: 'egress', descriptor });
    const [answer] = (await once(worker, 'message')) as [{ type: string }];
    assert.equal(answer.type, 'accepted');
    a.write(Buffer.from('across'));
    await waitFor(() => rx.text() === 'remote:across');
    a.close();

    const d2 = createRingPipeDescriptor();
    const a2 = openRingEndpoint(d2, 'a');
    const rx2 = collect(a2);
    worker.postMessage({ listener: 'missing', descriptor: d2 });
    const [refused] = (await once(worker, 'message')) as [{ type: string; reason: string }];
    assert.equal(refused.type, 'refused');
    assert.match(refused.reason, /no in-process listener "missing"/);
    a2.reset('refused');
    await waitFor(() => rx2.closed());
  } finally {
    await worker.terminate();
  }
});
