/**
 * A thread that serves dRPC may end at any moment — terminated by the supervisor, or crashed — while
 * its poll is armed; the process and its other threads carry on (an FFI callback into the dead
 * thread's JS would abort the whole process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

const serverModule = new URL('../../src/drpc/index.js', import.meta.url).href;

function serveInWorker(path: string, then: 'throw' | 'wait'): Worker {
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(serverModule)}).then(async ({ DomainSocketServer, Module, ClientConnection }) => {
      const s = new DomainSocketServer(${JSON.stringify(path)});
      s.registerModule(new Module(1).method(101, (b) => b));
      s.start();
      const c = new ClientConnection(${JSON.stringify(path)});
      await c.connect();
      await c.sendMsg({ module: 1, method: 101, body: Buffer.from('x') });
      parentPort.postMessage('serving');
      if (${JSON.stringify(then)} === 'throw') setTimeout(() => { throw new Error('crash while polling'); }, 20);
    });`;
  return new Worker(code, { eval: true });
}

for (const how of ['terminate', 'throw'] as const) {
  test(`a serving thread that is ${how === 'terminate' ? 'terminated' : 'crashed'} mid-poll leaves the process running`, async (t) => {
    const path = join(tempDir(t), `${how}.sock`);
    const w = serveInWorker(path, how === 'throw' ? 'throw' : 'wait');
    let crashed: Error | undefined;
    w.on('error', (e) => (crashed = e));
    const exited = new Promise<void>((resolve) => w.on('exit', () => resolve()));
    const [msg] = (await once(w, 'message')) as [string];
    assert.equal(msg, 'serving');
    if (how === 'terminate') await w.terminate();
    else {
      await exited;
      assert.match(String(crashed), /crash while polling/);
    }
    // Still here, and able to serve dRPC on a fresh thread.
    const again = serveInWorker(join(tempDir(t), 'again.sock'), 'wait');
    const [msg2] = (await once(again, 'message')) as [string];
    assert.equal(msg2, 'serving');
    await again.terminate();
  });
}
