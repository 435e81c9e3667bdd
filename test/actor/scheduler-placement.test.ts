import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadBoard } from '../../src/actor/load-board.js';
import { Scheduler, placeConnectionActors, placeInProcessConnection, schedulerSettingsFrom } from '../../src/actor/scheduler.js';

const on = { saturationThreshold: 0.8, backlogThreshold: 4, crossWorker: true }; // idle line 0.55
const load = (elu: number, connections = 0, backlog = 0): { elu: number; connections: number; backlog: number } => ({ elu, connections, backlog });

test('a new in-process connection stays on its worker while that worker is not saturated', () => {
  assert.deepEqual(placeInProcessConnection(0, [load(0.8, 500), load(0), load(0)], on), { worker: 0, reason: 'local' });
  assert.deepEqual(placeInProcessConnection(2, [load(0), load(0), load(0.3)], on), { worker: 2, reason: 'local' });
});

test('a saturated worker places the new connection on the least-loaded worker', () => {
  assert.deepEqual(placeInProcessConnection(0, [load(0.95), load(0.5), load(0.2)], on), { worker: 2, reason: 'least-loaded' });
  // equal utilization: fewer connections wins; then the lowest index, for reproducible decisions
  assert.deepEqual(placeInProcessConnection(0, [load(0.9), load(0.1, 9), load(0.1, 3)], on), { worker: 2, reason: 'least-loaded' });
  assert.deepEqual(placeInProcessConnection(2, [load(0.4, 4), load(0.4, 4), load(1)], on), { worker: 0, reason: 'least-loaded' });
});

test('a backlog behind the channel pools saturates a busy worker below the ELU threshold, not an idle one', () => {
  assert.deepEqual(placeInProcessConnection(0, [load(0.7, 1, 40), load(0.2)], on), { worker: 1, reason: 'least-loaded' });
  assert.deepEqual(placeInProcessConnection(0, [load(0.7, 1, 3.9), load(0.2)], on), { worker: 0, reason: 'local' }, 'below backlog_threshold');
  // Calls waiting on a slow upstream while the loop has time to spare: a hop would only add latency.
  assert.deepEqual(placeInProcessConnection(0, [load(0.5, 1, 40), load(0.2)], on), { worker: 0, reason: 'local' });
  // A worker that is itself saturated by its backlog is no target.
  assert.deepEqual(placeInProcessConnection(0, [load(0.9), load(0.6, 0, 10), load(0.7)], on), { worker: 2, reason: 'least-loaded' });
  assert.deepEqual(placeInProcessConnection(0, [load(0.9), load(0.6, 0, 10)], on), { worker: 0, reason: 'local-no-better-worker' });
});

test('cross-worker placement disabled keeps everything local even when saturated', () => {
  assert.deepEqual(placeInProcessConnection(0, [load(1), load(0)], { ...on, crossWorker: false }), {
    worker: 0,
    reason: 'local-cross-worker-disabled',
  });
});

test('no move when every other worker is saturated too, or when there is no other worker', () => {
  assert.deepEqual(placeInProcessConnection(0, [load(0.9), load(0.95), load(0.85)], on), { worker: 0, reason: 'local-no-better-worker' });
  assert.deepEqual(placeInProcessConnection(0, [load(1)], on), { worker: 0, reason: 'local-no-better-worker' });
});

test("a connection's actors are placed on the worker that holds its transport", () => {
  assert.equal(placeConnectionActors(3), 3);
});

test('the scheduler reads live loads from the shared load board and counts its decisions', () => {
  const buffer = LoadBoard.allocate(2);
  const board = new LoadBoard(buffer);
  const sched = new Scheduler(0, new LoadBoard(buffer), on); // a second view of one buffer, as on another thread
  assert.equal(sched.placeInProcess().worker, 0);
  board.setUtilization(0, 0.99);
  board.set(0, 50);
  board.setUtilization(1, 0.1);
  assert.deepEqual(sched.placeInProcess(), { worker: 1, reason: 'least-loaded' });
  assert.deepEqual(sched.stats(), { kept: 1, moved: 1, retired: 0, reversals: 0 });
  board.clear(0);
  board.setBacklog(1, 12.34);
  assert.equal(board.backlog(1), 12.3, 'backlog is kept in tenths of a call');
  assert.deepEqual(board.snapshot()[0], { elu: 0, connections: 0, backlog: 0 });
});

test('scheduler settings come from ringside.scheduler with defaults for what is missing', () => {
  assert.deepEqual(schedulerSettingsFrom({ scheduler: { saturation_threshold: 0.5, backlog_threshold: 12, cross_worker: false } }), {
    saturationThreshold: 0.5,
    backlogThreshold: 12,
    crossWorker: false,
  });
  assert.deepEqual(schedulerSettingsFrom(undefined), { saturationThreshold: 0.85, backlogThreshold: 4, crossWorker: true });
});
