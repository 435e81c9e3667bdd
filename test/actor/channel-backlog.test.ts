/**
 * The scheduler's second saturation signal: calls waiting for a channel pool connection, counted by
 * the pools on the worker's backlog gauge as a time-weighted average and published on the load board.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BacklogGauge } from '../../src/actor/backlog.js';
import { LoadBoard } from '../../src/actor/load-board.js';
import { Scheduler, defaultSchedulerSettings } from '../../src/actor/scheduler.js';
import { ConnPool } from '../../src/runtime/channel/pool.js';
import { RingsideError } from '../../src/common/errors.js';

class Conn {
  closed = false;
  destroy(): void {
    this.closed = true;
  }
}

test('the gauge averages waiting calls over time, not at the sample instant', () => {
  let now = 0;
  const gauge = new BacklogGauge(() => now);
  gauge.add(1);
  gauge.add(1); // 2 waiting for 40 ms …
  now = 40;
  gauge.add(-2); // … then none for 10 ms
  now = 50;
  // average over the 50 ms: 2 × 40 / 50 = 1.6; smoothed with the previous (0) at one half
  assert.equal(gauge.sample(), 0.8);
  assert.equal(gauge.waiting, 0);
  now = 100;
  assert.equal(gauge.sample(), 0.4, 'an empty period halves the published value');
});

test('a pool counts exactly the calls that wait for a turn: served, cancelled and failed ones leave the count', () => {
  const gauge = new BacklogGauge(() => 0);
  const pool = new ConnPool(1, () => new Conn(), gauge);
  const held: Conn[] = [];
  const failed: RingsideError[] = [];
  const take = (): ReturnType<typeof pool.take> => pool.take((c) => (c instanceof RingsideError ? failed.push(c) : held.push(c)));
  take();
  assert.equal(gauge.waiting, 0, 'a call that gets its turn at once never waits');
  const cancelled = take()!;
  take();
  take();
  assert.equal(gauge.waiting, 3);
  pool.cancel(cancelled);
  pool.cancel(cancelled);
  assert.equal(gauge.waiting, 2, 'a cancel counts once');
  pool.release(held[0]!, false);
  assert.equal(gauge.waiting, 1, 'the next waiter got the connection');
  pool.close();
  assert.equal(gauge.waiting, 0);
  assert.equal(failed.length, 1);
});

test("the scheduler publishes this worker's backlog next to its utilization, and a backlog on a busy loop moves work", () => {
  let now = 0;
  const gauge = new BacklogGauge(() => now);
  const board = new LoadBoard(LoadBoard.allocate(2));
  const s = new Scheduler(0, board, defaultSchedulerSettings, gauge);
  for (let i = 0; i < 48; i++) gauge.add(1);
  board.setUtilization(1, 0.1);
  now = 50;
  s.publish(3, 0.7);
  assert.deepEqual(board.load(0), { connections: 3, elu: 0.7, backlog: 24 });
  assert.equal(s.publishedBacklog, 24);
  assert.equal(s.shouldRetire(0), true, 'ELU 0.7 is under 0.85, but 24 calls queue here');
  assert.equal(s.placeInProcess().worker, 1);
});
