import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadBoard } from '../../src/actor/load-board.js';
import { RETIRE_INTERVAL_MS, Scheduler, defaultSchedulerSettings, shouldRetireConnection } from '../../src/actor/scheduler.js';

const settings = defaultSchedulerSettings; // saturated above 0.85 (or a backlog of 4 above 0.60), idle below 0.60
const view = (elu: number[], backlog: number[] = []) => ({ utilization: (i: number) => elu[i]!, backlog: (i: number) => backlog[i] ?? 0, size: elu.length });
const rule = (self: number, placedOn: number, elu: number[], backlog?: number[]): boolean => shouldRetireConnection(self, placedOn, view(elu, backlog), settings);

test('a local connection moves only when this worker is saturated and another is idle', () => {
  assert.equal(rule(0, 0, [0.95, 0.1]), true);
  assert.equal(rule(0, 0, [0.8, 0.1]), false, 'not saturated: affinity wins');
  assert.equal(rule(0, 0, [0.95, 0.7]), false, 'the other worker is busy, only less: no move into the band');
  assert.equal(rule(0, 0, [0.95, 0.9]), false, 'both saturated: a move buys nothing');
});

test('a backlog behind the pools makes a busy worker shed work though its ELU is under the threshold', () => {
  assert.equal(rule(0, 0, [0.7, 0.1], [48, 0]), true);
  assert.equal(rule(0, 0, [0.7, 0.1], [3, 0]), false, 'a short queue is not a bottleneck');
  assert.equal(rule(0, 0, [0.5, 0.1], [48, 0]), false, 'calls wait on the upstream, the loop has time to spare');
  assert.equal(rule(0, 0, [0.95, 0.3], [0, 10]), false, 'the other worker queues calls of its own: it takes no work');
});

test('a moved connection comes back only when its worker is saturated and this one idle (hysteresis)', () => {
  assert.equal(rule(0, 1, [0.7, 0.2]), false, 'where it is is fine');
  assert.equal(rule(0, 1, [0.7, 0.95]), false, 'this worker is inside the band: it does not take work back');
  assert.equal(rule(0, 1, [0.4, 0.95]), true);
  assert.equal(rule(0, 1, [0.4, 0.95], [48, 0]), true, "this worker's backlog is the saturated worker's doing: take the work back");
  assert.equal(rule(0, 1, [0.4, 0.7], [0, 30]), true, 'the worker it is on is saturated by its own backlog');
  assert.equal(rule(0, 1, [0.7, 0.7], [48, 30]), false, 'this worker is not below the idle line');
});

test('cross_worker false brings moved connections home and never moves local ones', () => {
  const off = { ...settings, crossWorker: false };
  assert.equal(shouldRetireConnection(0, 0, view([1, 0]), off), false);
  assert.equal(shouldRetireConnection(0, 1, view([0, 0]), off), true);
});

test('the scheduler retires at most one connection per interval', () => {
  const board = new LoadBoard(LoadBoard.allocate(2));
  board.setUtilization(0, 0.99);
  board.setUtilization(1, 0.05);
  const s = new Scheduler(0, board, settings);
  assert.equal(s.shouldRetire(0), true);
  assert.equal(s.shouldRetire(0), false, `a second retire within ${RETIRE_INTERVAL_MS} ms waits`);
  assert.equal(s.stats().retired, 1);
  assert.equal(s.placeInProcess().worker, 1, 'the re-dial goes to the idle worker');
  assert.equal(s.stats().moved, 1);
});

test('moving work back right after moving it out waits for the damping period (a pipeline must not flap)', () => {
  const board = new LoadBoard(LoadBoard.allocate(2));
  const s = new Scheduler(0, board, settings);
  board.setUtilization(0, 0.99);
  board.setUtilization(1, 0.05);
  assert.equal(s.shouldRetire(0), true, 'moved out');
  // The move made worker 1 the bottleneck: this worker now idles waiting for its answers.
  board.setUtilization(0, 0.3);
  board.setUtilization(1, 0.99);
  assert.equal(shouldRetireConnection(0, 1, board, settings), true, 'the rule alone would call it back');
  assert.equal(s.shouldRetire(1), false, 'damped');
  assert.equal(s.stats().reversals, 0);
});
