import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createRingPipeDescriptor, installThreadBells, openRingEndpoint, resetRingPipe } from '../../src/ring/index.js';
import { BellTable } from '../../src/ring/bells.js';
import { CONSUMER_BELL } from '../../src/ring/layout.js';
import { snapshotCounters } from '../../src/common/counters.js';
import type { RingEndpoint } from '../../src/types/ring.js';
import type { BellPeerData, BellPeerReport } from './fixtures/bell-peer.js';

const PIPES = 8;
const ROUNDS = 5;

function next<T extends BellPeerReport['type']>(w: Worker, type: T): Promise<Extract<BellPeerReport, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${type}" report`)), 5000);
    const on = (m: BellPeerReport): void => {
      if (m.type !== type) return;
      clearTimeout(timer);
      w.off('message', on);
      resolve(m as Extract<BellPeerReport, { type: T }>);
    };
    w.on('message', on);
    w.once('error', reject);
  });
}

const notifiesHere = (): number => snapshotCounters()['ring.notifies'] ?? 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a thread with many cross-thread ends parks once and is woken once per burst; every byte arrives', async () => {
  const table = new SharedArrayBuffer(BellTable.bytesFor(2));
  BellTable.initialize(table, 2);
  installThreadBells(table, 0);
  const pipes = Array.from({ length: PIPES }, () => createRingPipeDescriptor({ capacity: 4096 }));
  assert.ok(pipes.every((p) => p.bells === table), 'descriptors made here carry the thread table');
  const ends: RingEndpoint[] = pipes.map((p) => openRingEndpoint(p, 'a'));
  const peer = new Worker(new URL('./fixtures/bell-peer.js', import.meta.url), { workerData: { table, slot: 1, pipes } satisfies BellPeerData });
  try {
    await next(peer, 'open');
    const got = ends.map(() => [] as Buffer[]);
    ends.forEach((ep, i) => (ep.onData = (c) => void got[i]!.push(Buffer.from(c))));
    const bells = new BellTable(table);
    const before = notifiesHere();
    for (let round = 0; round < ROUNDS; round++) {
      // Let the peer thread run out of work and park on its doorbell.
      for (let i = 0; i < 100 && !bells.parked(1); i++) await sleep(5);
      assert.equal(bells.parked(1), true, 'the idle peer thread parked');
      // One burst: a message on every pipe in one tick.
      ends.forEach((ep, i) => ep.write(Buffer.from(`round ${round} pipe ${i};`)));
      const want = (i: number): string => Array.from({ length: round + 1 }, (_, r) => `round ${r} pipe ${i};`).join('');
      for (let i = 0; i < 200 && !ends.every((_, j) => Buffer.concat(got[j]!).toString() === want(j)); i++) await sleep(5);
      ends.forEach((_, j) => assert.equal(Buffer.concat(got[j]!).toString(), want(j), `pipe ${j} echoed round ${round}`));
    }
    const sent = notifiesHere() - before;
    // A doorbell per end would take one notify per pipe and round (PIPES × ROUNDS = 40).
    assert.ok(sent >= 1 && sent <= 2 * ROUNDS, `notifies sent to the parked peer thread: ${sent}`);
    peer.postMessage('counters');
    const c = await next(peer, 'counters');
    assert.ok(c.parks >= ROUNDS, `the peer thread parked ${c.parks} times`);

    // A reset from a thread that holds only the descriptor wakes the parked thread; the other pipes go on.
    for (let i = 0; i < 100 && !bells.parked(1); i++) await sleep(5);
    const closed = next(peer, 'closed');
    assert.equal(resetRingPipe(pipes[0]!, 'worker gone'), true);
    const r = await closed;
    assert.deepEqual([r.pipeId, r.reason], [pipes[0]!.pipeId, 'worker gone']);
    ends[1]!.write(Buffer.from('after reset;'));
    for (let i = 0; i < 200 && !Buffer.concat(got[1]!).toString().endsWith('after reset;'); i++) await sleep(5);
    assert.ok(Buffer.concat(got[1]!).toString().endsWith('after reset;'));
  } finally {
    for (const ep of ends) ep.reset('test over');
    await peer.terminate();
  }
});

test('a descriptor from another table keeps the per-end doorbell', () => {
  const mine = new SharedArrayBuffer(BellTable.bytesFor(1));
  BellTable.initialize(mine, 1);
  const other = new SharedArrayBuffer(BellTable.bytesFor(1));
  BellTable.initialize(other, 1);
  installThreadBells(mine, 0);
  const d = { ...createRingPipeDescriptor({ capacity: 1024 }), bells: other };
  const a = openRingEndpoint(d, 'a');
  const b = openRingEndpoint(d, 'b');
  // Neither end writes a consumer slot into its ring: wakers use the per-end doorbell.
  assert.equal(new Int32Array(d.aToB, CONSUMER_BELL * 4, 1)[0], 0);
  assert.equal(new Int32Array(d.bToA, CONSUMER_BELL * 4, 1)[0], 0);
  a.reset('done');
  b.reset('done');
});
