import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActorRunLoop } from '../../src/actor/run-loop.js';
import type { ActorRef } from '../../src/types/actor.js';

test('a flooding actor does not starve another: the other runs after at most one batch', async () => {
  const loop = new ActorRunLoop({ batch: 64, turnBudget: 1024 });
  let floodHandled = 0;
  let floodHandledWhenOtherRan = -1;
  let flood!: ActorRef<string>;
  flood = loop.spawn<string>('flood', {
    receive(msg) {
      if (msg === 'start') for (let i = 0; i < 5000; i++) flood.tell('work');
      else floodHandled++;
    },
  });
  let other!: ActorRef<string>;
  other = loop.spawn<string>('other', {
    receive(msg) {
      if (msg === 'start') other.tell('tick'); // re-entrant: queued behind the flood
      else floodHandledWhenOtherRan = floodHandled;
    },
  });
  flood.tell('start');
  other.tell('start');
  while (floodHandled < 5000) await new Promise((r) => setImmediate(r));
  assert.ok(floodHandledWhenOtherRan >= 0, 'the other actor ran');
  assert.ok(floodHandledWhenOtherRan <= 64, `the other actor waited for ${floodHandledWhenOtherRan} flood messages`);
});

test('an endless flood still lets timers fire: bounded turns yield to the event loop', { timeout: 5000 }, async () => {
  const loop = new ActorRunLoop({ batch: 64, turnBudget: 256 });
  let self!: ActorRef<number>;
  self = loop.spawn<number>('endless', { receive: (n) => self.tell(n + 1) });
  self.tell(0);
  self.tell(0); // a second message, queued because the first keeps the actor busy re-telling
  await new Promise<void>((resolve) => setTimeout(resolve, 20));
  assert.ok(self.alive);
  loop.stop(self);
  const s = loop.stats();
  assert.ok(s.yields > 0, 'turns hit their budget and yielded');
  assert.ok(s.messages > 256);
});

test('one actor keeps its message order and a throwing actor is stopped without touching others', async () => {
  const loop = new ActorRunLoop({ batch: 4 });
  const seen: number[] = [];
  let orderly!: ActorRef<number>;
  orderly = loop.spawn<number>('orderly', {
    receive(n) {
      seen.push(n);
      if (n === 0) for (let i = 1; i < 20; i++) orderly.tell(i);
    },
  });
  let stoppedCalled = false;
  const bomb = loop.spawn<string>('bomb', {
    receive() {
      throw new Error('boom');
    },
    stopped() {
      stoppedCalled = true;
    },
  });
  orderly.tell(0);
  bomb.tell('x');
  bomb.tell('dropped');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i));
  assert.equal(bomb.alive, false);
  assert.equal(stoppedCalled, true);
  assert.equal(orderly.alive, true);
});
