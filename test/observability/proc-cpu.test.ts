/**
 * The one /proc CPU reader: a thread's own time, and a process's time that keeps what exited
 * threads used (the sum over /proc/PID/task/* loses it — the disagreement the readers used to have).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { processCpuSeconds, statCpuSeconds, threadCpuSeconds } from '../../src/observability/proc-cpu.js';

const BUSY_MS = 250;

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
  // The worker spins for BUSY_MS and reports the CPU its own thread used meanwhile.
  const code = `
    const { parentPort } = require('node:worker_threads');
    const { readFileSync } = require('node:fs');
    const cpu = () => { const l = readFileSync('/proc/thread-self/stat', 'latin1'); const f = l.slice(l.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
    const t0 = cpu(); const end = Date.now() + ${BUSY_MS}; while (Date.now() < end) {}
    parentPort.postMessage(cpu() - t0);`;
  const used = await new Promise<number>((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once('message', (n: number) => w.once('exit', () => resolve(n)));
    w.once('error', reject);
  });
  assert.ok(used >= 0.1, `the worker thread saw its own spin (${used}s)`);
  assert.ok(threadCpuSeconds()! - mainBefore < used, 'the main thread did not get the worker time');
  const after = processCpuSeconds()!;
  assert.ok(after - before >= used - 0.02, `the process total keeps the exited thread (${after - before}s >= ${used}s)`);
  assert.ok(after - liveThreadsSum() >= used - 0.02, 'summing live threads would have lost it');
});

test('an unreadable process answers undefined rather than a wrong figure', () => {
  assert.equal(processCpuSeconds(2 ** 22 + 12345), undefined);
});
