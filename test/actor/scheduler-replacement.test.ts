import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadBoard } from '../../src/actor/load-board.js';
import { RETIRE_INTERVAL_MS, Scheduler, defaultSchedulerSettings, shouldRetireConnection } from '../../src/actor/scheduler.js';

const settings = defaultSchedulerSettings; // saturated above 0.85, idle below 0.60
const rule = (self: number, placedOn: number, elu: number[]): boolean => shouldRetireConnection(self, placedOn, (i) => elu[i]!, elu.length, settings);

test('a local connection moves only when this worker is saturated and another is idle', () => {
  assert.equal(rule(0, 0, [0.95, 0.1]), true);
  assert.equal(rule(0, 0, [0.8, 0.1]), false, 'not saturated: affinity wins');
  assert.equal(rule(0, 0, [0.95, 0.7]), false, 'the other worker is busy, only less: no move into the band');
  assert.equal(rule(0, 0, [0.95, 0.9]), false, 'both saturated: a move buys nothing');
});

test('a moved connection comes back only when its worker is saturated and this one idle (hysteresis)', () => {
  assert.equal(rule(0, 1, [0.7, 0.2]), false, 'where it is is fine');
  assert.equal(rule(0, 1, [0.7, 0.95]), false, 'this worker is inside the band: it does not take work back');
  assert.equal(rule(0, 1, [0.4, 0.95]), true);
});

test('cross_worker false brings moved connections home and never moves local ones', () => {
  const off = { ...settings, crossWorker: false };
  assert.equal(shouldRetireConnection(0, 0, () => 1, 2, off), false);
  assert.equal(shouldRetireConnection(0, 1, () => 0, 2, off), true);
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
  assert.equal(shouldRetireConnection(0, 1, (i) => board.utilization(i), 2, settings), true, 'the rule alone would call it back');
  assert.equal(s.shouldRetire(1), false, 'damped');
  assert.equal(s.stats().reversals, 0);
});
