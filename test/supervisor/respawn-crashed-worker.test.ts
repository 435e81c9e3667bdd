import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http, lineClient, startChild, tryConnect } from './helpers.js';

const script = new URL('./fixtures/run-supervisor.js', import.meta.url).pathname;

interface Booted {
  admin: string;
  workers: string[];
}

for (const mode of ['throw', 'fatal'] as const) {
  test(`a worker that crashes (${mode}) is respawned while a connection on the other worker keeps working`, async (t) => {
    const child = startChild(script, [], { RINGSIDE_TEST_HOOKS: '1' });
    t.after(() => child.kill());
    const booted = JSON.parse(await child.waitStdout(/^\{/)) as Booted;
    assert.equal(booted.workers.length, 2);

    const survivor = await lineClient(booted.workers[1]!);
    t.after(() => survivor.socket.destroy());
    assert.equal(await survivor.ask('PING'), 'PONG 1');
    const victim = await lineClient(booted.workers[0]!);
    assert.equal(await victim.ask('PING'), 'PONG 0');

    const crash = await http('POST', `http://${booted.admin}/test/crash?worker=0&mode=${mode}`);
    assert.equal(crash.status, 202);
    await victim.closed; // its worker is gone, and so is its connection
    const cause = await child.waitStderr(/worker\/0 crashed: /);
    assert.match(cause, mode === 'throw' ? /uncaught throw/ : /test hook: fatal/);
    await child.waitStderr(/worker\/0 respawned/);

    // The other worker's connection never noticed.
    assert.equal(await survivor.ask('PING'), 'PONG 1');
    // The respawned worker serves the address its predecessor bound.
    const fresh = await lineClient(booted.workers[0]!);
    assert.equal(await fresh.ask('PING'), 'PONG 0');
    fresh.socket.destroy();

    const stats = (await http('GET', `http://${booted.admin}/stats`)).body as { stage: string; workers: { workerIndex: number; down?: string }[] };
    assert.equal(stats.stage, 'running');
    assert.deepEqual(
      stats.workers.map((w) => [w.workerIndex, w.down === undefined]),
      [
        [0, true],
        [1, true],
      ],
    );
    child.proc.kill('SIGTERM');
    survivor.socket.destroy();
    assert.equal((await child.exited).code, 0);
  });
}

test('admin /ready answers 200 while running, the crash hook exists only with RINGSIDE_TEST_HOOKS=1, and nothing listens after stop', async (t) => {
  const child = startChild(script, [], { WORKERS: '1' });
  t.after(() => child.kill());
  const booted = JSON.parse(await child.waitStdout(/^\{/)) as Booted;
  assert.equal((await http('GET', `http://${booted.admin}/ready`)).status, 200);
  // Without RINGSIDE_TEST_HOOKS the crash endpoint does not exist.
  assert.equal((await http('POST', `http://${booted.admin}/test/crash?worker=0`)).status, 404);
  child.proc.kill('SIGTERM');
  assert.equal((await child.exited).code, 0);
  assert.equal(await tryConnect(booted.workers[0]!), 'ECONNREFUSED');
});
