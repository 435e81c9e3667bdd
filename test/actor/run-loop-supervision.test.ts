import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActorRunLoop } from '../../src/actor/run-loop.js';
import type { ActorRef } from '../../src/types/actor.js';

test('a crashing actor is stopped once, its crashed() hook runs, and later tells are dead letters', async () => {
  const loop = new ActorRunLoop();
  const crashes: unknown[] = [];
  const bomb = loop.spawn<string>('test.bomb', {
    receive(msg) {
      if (msg === 'boom') throw new Error('boom');
    },
    crashed: (err) => crashes.push(err),
  });
  bomb.tell('fine');
  bomb.tell('boom');
  bomb.tell('after');
  bomb.tell('after');
  assert.equal(bomb.alive, false);
  assert.equal(crashes.length, 1);
  assert.equal((crashes[0] as Error).message, 'boom');
  const s = loop.stats().kinds['test.bomb']!;
  assert.deepEqual(
    { live: s.live, spawned: s.spawned, messages: s.messages, crashes: s.crashes, deadLetters: s.deadLetters },
    { live: 0, spawned: 1, messages: 2, crashes: 1, deadLetters: 2 },
  );
  assert.equal(loop.stats().crashes, 1);
  assert.equal(loop.stats().deadLetters, 2);
});

test('queued deliveries and turns are counted per kind; a crash while queued drops the rest of the mailbox', async () => {
  const loop = new ActorRunLoop({ batch: 4 });
  let handled = 0;
  let self!: ActorRef<number>;
  self = loop.spawn<number>('test.queued', {
    receive(n) {
      handled++;
      if (n === 0) for (let i = 1; i <= 10; i++) self.tell(i); // re-entrant: all queued
      if (n === 6) throw new Error('six');
    },
  });
  const other = loop.spawn<number>('test.other', { receive() {} });
  self.tell(0);
  other.tell(1);
  await new Promise((r) => setImmediate(r));
  const s = loop.stats().kinds['test.queued']!;
  assert.equal(handled, 7, 'messages after the crash were dropped');
  assert.equal(s.queued, 10);
  assert.ok(s.turns >= 2, `turns ${s.turns}`);
  assert.equal(s.crashes, 1);
  assert.equal(loop.stats().kinds['test.other']!.crashes, 0);
  assert.equal(loop.stats().kinds['test.other']!.live, 1);
});
