import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadBoard } from '../../src/actor/load-board.js';
import { Scheduler, placeConnectionActors, placeInProcessConnection, schedulerSettingsFrom } from '../../src/actor/scheduler.js';

const on = { saturationThreshold: 10, crossWorker: true };

test('a new in-process connection stays on its worker while that worker is not saturated', () => {
  assert.deepEqual(placeInProcessConnection(0, [10, 0, 0], on), { worker: 0, reason: 'local' });
  assert.deepEqual(placeInProcessConnection(2, [0, 0, 3], on), { worker: 2, reason: 'local' });
});

test('a saturated worker places the new connection on the least-loaded worker', () => {
  assert.deepEqual(placeInProcessConnection(0, [11, 7, 2], on), { worker: 2, reason: 'least-loaded' });
  // ties go to the lowest index, for reproducible decisions
  assert.deepEqual(placeInProcessConnection(2, [4, 4, 30], on), { worker: 0, reason: 'least-loaded' });
});

test('cross-worker placement disabled keeps everything local even when saturated', () => {
  assert.deepEqual(placeInProcessConnection(0, [100, 0], { ...on, crossWorker: false }), {
    worker: 0,
    reason: 'local-cross-worker-disabled',
  });
});

test('no move when every other worker is saturated too, or when there is no other worker', () => {
  assert.deepEqual(placeInProcessConnection(0, [20, 15, 12], on), { worker: 0, reason: 'local-no-better-worker' });
  assert.deepEqual(placeInProcessConnection(0, [20], on), { worker: 0, reason: 'local-no-better-worker' });
});

test("a connection's actors are placed on the worker that holds its transport", () => {
  assert.equal(placeConnectionActors(3), 3);
});

test('the scheduler reads live loads from the shared load board and counts its decisions', () => {
  const board = new LoadBoard(LoadBoard.allocate(2));
  const sched = new Scheduler(0, board, on);
  assert.equal(sched.placeInProcess().worker, 0);
  board.set(0, 50);
  board.set(1, 1);
  assert.deepEqual(sched.placeInProcess(), { worker: 1, reason: 'least-loaded' });
  assert.deepEqual(sched.stats(), { kept: 1, moved: 1 });
});

test('scheduler settings come from ringside.scheduler with defaults for what is missing', () => {
  assert.deepEqual(schedulerSettingsFrom({ scheduler: { saturation_threshold: 5, cross_worker: true } }), on && {
    saturationThreshold: 5,
    crossWorker: true,
  });
  assert.deepEqual(schedulerSettingsFrom(undefined), { saturationThreshold: 256, crossWorker: false });
});
