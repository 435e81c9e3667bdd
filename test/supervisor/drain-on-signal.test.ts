import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http, lineClient, startChild, tryConnect } from './helpers.js';

const script = new URL('./fixtures/run-supervisor.js', import.meta.url).pathname;

interface Booted {
  admin: string;
  workers: string[];
}

test('SIGTERM drains: an in-flight slow request completes, new connections are refused, exit 0', async (t) => {
  const child = startChild(script, [], { DRAIN_TIMEOUT: '10000' });
  t.after(() => child.kill());
  const booted = JSON.parse(await child.waitStdout(/^\{/)) as Booted;

  const client = await lineClient(booted.workers[0]!);
  t.after(() => client.socket.destroy());
  const started = Date.now();
  const reply = client.ask('SLOW 1200');
  await new Promise((r) => setTimeout(r, 100));
  child.proc.kill('SIGTERM');
  await child.waitStderr(/"thread":"worker\/0","scope":"worker","msg":"stopped accepting; 1 connection/);
  await child.waitStderr(/"thread":"worker\/1","scope":"worker","msg":"stopped accepting; 0 connection/);

  // No worker accepts any more, while the slow request is still in flight.
  assert.equal(await tryConnect(booted.workers[0]!), 'ECONNREFUSED');
  assert.equal(await tryConnect(booted.workers[1]!), 'ECONNREFUSED');
  assert.equal(child.proc.exitCode, null, 'still draining');

  assert.equal(await reply, 'DONE 1200');
  await client.closed;
  const { code } = await child.exited;
  assert.equal(code, 0);
  // It waited for the request, not for the 10 s deadline.
  assert.ok(Date.now() - started < 8000, `exited after ${Date.now() - started} ms`);
  assert.match(child.stderr(), /drained: 1 connection\(s\) finished, 0 closed at the deadline/);
});

test('a drain closes connections still open at the drain timeout and still exits 0', async (t) => {
  const child = startChild(script, [], { DRAIN_TIMEOUT: '300', WORKERS: '1' });
  t.after(() => child.kill());
  const booted = JSON.parse(await child.waitStdout(/^\{/)) as Booted;
  const idle = await lineClient(booted.workers[0]!);
  assert.equal(await idle.ask('PING'), 'PONG 0');
  const drain = await http('POST', `http://${booted.admin}/drain`);
  assert.equal(drain.status, 202);
  await idle.closed;
  assert.equal((await child.exited).code, 0);
  assert.match(child.stderr(), /0 connection\(s\) finished, 1 closed at the deadline/);
});

test('a second signal during a drain exits at once with code 1', async (t) => {
  const child = startChild(script, [], { DRAIN_TIMEOUT: '30000', WORKERS: '1' });
  t.after(() => child.kill());
  const booted = JSON.parse(await child.waitStdout(/^\{/)) as Booted;
  const idle = await lineClient(booted.workers[0]!);
  t.after(() => idle.socket.destroy());
  child.proc.kill('SIGTERM');
  await child.waitStderr(/running → drain/);
  const sent = Date.now();
  child.proc.kill('SIGINT');
  assert.equal((await child.exited).code, 1);
  assert.ok(Date.now() - sent < 3000);
});
