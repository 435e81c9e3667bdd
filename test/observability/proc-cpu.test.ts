/**
 * The one /proc CPU reader: a thread's own time, and a process's time that keeps what exited
 * threads used (the sum over /proc/PID/task/* loses it — the disagreement the readers used to have).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { processCpuSeconds, statCpuSeconds, threadCpuSeconds } from '../../src/observability/proc-cpu.js';

/**
 * CPU seconds the worker spins for, by its own thread's clock: how much CPU it gets per second of
 * wall time depends on the machine's load, what it has used once it stops does not.
 */
const BUSY_CPU_S = 0.3;
/** Only a reader that never advances gets here; a loaded machine still reaches BUSY_CPU_S long before. */
const GIVE_UP_MS = 60_000;

/** What the per-thread sum would say: only threads alive now. */
function liveThreadsSum(): number {
  let sum = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      sum += statCpuSeconds(readFileSync(`/proc/self/task/${tid}/stat`, 'latin1'));
    } catch {
      // exited between readdir and read
    }
  }
  return sum;
}

test('a worker thread reads its own CPU time; after it exits the process total still holds it', { skip: process.platform !== 'linux' }, async () => {
  const before = processCpuSeconds()!;
  const mainBefore = threadCpuSeconds()!;
  // The worker spins until its own thread has used BUSY_CPU_S, then reports what it used.
  const code = `
    const { parentPort } = require('node:worker_threads');
    const { readFileSync } = require('node:fs');
    const cpu = () => { const l = readFileSync('/proc/thread-self/stat', 'latin1'); const f = l.slice(l.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
    const t0 = cpu(); const giveUp = Date.now() + ${GIVE_UP_MS};
    let used = 0; while ((used = cpu() - t0) < ${BUSY_CPU_S} && Date.now() < giveUp) {}
    parentPort.postMessage(used);`;
  const used = await new Promise<number>((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once('message', (n: number) => w.once('exit', () => resolve(n)));
    w.once('error', reject);
  });
  assert.ok(used >= BUSY_CPU_S, `the worker thread's own reading advanced with its spin (${used}s)`);
  assert.ok(threadCpuSeconds()! - mainBefore < used, 'the main thread did not get the worker time');
  const after = processCpuSeconds()!;
  assert.ok(after - before >= used - 0.02, `the process total keeps the exited thread (${after - before}s >= ${used}s)`);
  assert.ok(after - liveThreadsSum() >= used - 0.02, 'summing live threads would have lost it');
});

test('an unreadable process answers undefined rather than a wrong figure', () => {
  assert.equal(processCpuSeconds(2 ** 22 + 12345), undefined);
});
