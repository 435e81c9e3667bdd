import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineClient, startChild } from './helpers.js';

const script = new URL('./fixtures/run-supervisor.js', import.meta.url).pathname;

test('prewarmed threads become the workers (booted by message), the one not needed is ended, and drain still exits 0', async (t) => {
  const child = startChild(script, [], { PREWARM: '3', WORKERS: '2' });
  t.after(() => child.kill());
  const booted = JSON.parse(await child.waitStdout(/^\{/)) as { workers: string[] };
  assert.equal(booted.workers.length, 2);
  await child.waitStderr(/worker\/0 boots on a prewarmed thread/);
  await child.waitStderr(/worker\/1 boots on a prewarmed thread/);
  await child.waitStderr(/1 prewarmed worker thread\(s\) not needed/);
  for (const [i, address] of booted.workers.entries()) {
    const c = await lineClient(address);
    assert.equal(await c.ask('PING'), `PONG ${i}`);
    c.socket.destroy();
  }
  child.proc.kill('SIGTERM');
  assert.equal((await child.exited).code, 0);
});
