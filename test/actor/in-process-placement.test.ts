import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { LoadBoard } from '../../src/actor/load-board.js';
import { Scheduler } from '../../src/actor/scheduler.js';
import { MeshLink } from '../../src/worker/mesh.js';
import { InProcessDialer } from '../../src/worker/dialer.js';
import type { MeshMessage } from '../../src/types/messages.js';
import type { RingEndpoint } from '../../src/types/ring.js';

function setup(selfElu: number): { dialer: InProcessDialer; far: MessageChannel['port2']; localDials: string[]; close(): void } {
  const board = new LoadBoard(LoadBoard.allocate(2));
  board.setUtilization(0, selfElu);
  board.setUtilization(1, 0.1);
  const channel = new MessageChannel();
  const mesh = new MeshLink(0, channel.port1, () => {
    throw new Error('unused');
  });
  const localDials: string[] = [];
  const dialer = new InProcessDialer(new Scheduler(0, board, { saturationThreshold: 0.8, backlogThreshold: 4, crossWorker: true }), mesh, (name) => {
    localDials.push(name);
    return { closed: false } as RingEndpoint;
  });
  return { dialer, far: channel.port2, localDials, close: () => channel.port1.close() };
}

test('an unsaturated worker dials its own in-process listener, with no mesh message', async (t) => {
  const s = setup(0.2);
  t.after(() => s.close());
  let meshed = false;
  s.far.on('message', () => (meshed = true));
  s.dialer.dial('egress');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(s.localDials, ['egress']);
  assert.equal(meshed, false);
});

test('a saturated worker sends pipe.dial to the least-loaded worker; a refusal resets the dialer end', async (t) => {
  const s = setup(0.99);
  t.after(() => s.close());
  const dialed = new Promise<MeshMessage>((resolve) => s.far.once('message', resolve));
  const end = s.dialer.dial('egress');
  const msg = await dialed;
  assert.equal(msg.type, 'pipe.dial');
  assert.deepEqual(s.localDials, []);
  if (msg.type !== 'pipe.dial') return;
  assert.deepEqual([msg.fromWorker, msg.toWorker, msg.listener], [0, 1, 'egress']);
  const closed = new Promise<string | undefined>((resolve) => (end.onClose = resolve));
  s.far.postMessage({ type: 'pipe.refused', fromWorker: 1, toWorker: 0, pipeId: msg.descriptor.pipeId, reason: 'draining' } satisfies MeshMessage);
  assert.match((await closed) ?? '', /worker\/1 refused "egress": draining/);
  s.far.close();
});

test('a pipe.dial this worker cannot accept is answered with pipe.refused and its reason', async (t) => {
  const channel = new MessageChannel();
  t.after(() => channel.port1.close());
  new MeshLink(1, channel.port1, (listener) => {
    throw new Error(`no in-process listener "${listener}"`);
  });
  const answered = new Promise<MeshMessage>((resolve) => channel.port2.once('message', resolve));
  const descriptor = { pipeId: 7, aToB: new SharedArrayBuffer(8), bToA: new SharedArrayBuffer(8) };
  channel.port2.postMessage({ type: 'pipe.dial', fromWorker: 0, toWorker: 1, listener: 'nope', descriptor } satisfies MeshMessage);
  assert.deepEqual(await answered, { type: 'pipe.refused', fromWorker: 1, toWorker: 0, pipeId: 7, reason: 'no in-process listener "nope"' });
  channel.port2.close();
});
