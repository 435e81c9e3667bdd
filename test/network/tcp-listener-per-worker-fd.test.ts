/**
 * Every worker owns its own listening fd for a TCP listener (SO_REUSEPORT): both accept, and closing
 * or losing one worker's listener leaves the other accepting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { TcpListener } from '../../src/network/listeners/tcp-listener.js';
import { nativeReusePort } from '../../src/network/listeners/reuseport.js';
import { echoChain, roundTrip, settings } from './helpers.js';

interface Listening {
  type: 'listening' | 'error' | 'stopped';
  port: number;
  fd: number;
  message?: string;
}

async function spawn(index: number, port: number): Promise<{ worker: Worker; info: Listening }> {
  const worker = new Worker(new URL('./fixtures/tcp-worker.js', import.meta.url), { workerData: { index, port } });
  const [info] = (await once(worker, 'message')) as [Listening];
  if (info.type !== 'listening') throw new Error(`worker ${index}: ${info.message}`);
  return { worker, info };
}

async function tagsOf(port: number, n: number): Promise<string[]> {
  const tags: string[] = [];
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => roundTrip(port, 'hi', 5)));
    for (const got of batch) tags.push(got.slice(0, 3));
  }
  return tags;
}

test('two workers bind one port with distinct fds, both accept, and one closing leaves the other serving', async () => {
  const w0 = await spawn(0, 0);
  const port = w0.info.port;
  assert.ok(port > 0);
  const w1 = await spawn(1, port); // the supervisor passes worker 0's port-0 choice
  try {
    assert.equal(w1.info.port, port);
    assert.notEqual(w0.info.fd, w1.info.fd, 'each worker must own its own fd number');

    const tags = await tagsOf(port, 80);
    assert.ok(tags.includes('w0:'), `worker 0 accepted none of ${tags.length}`);
    assert.ok(tags.includes('w1:'), `worker 1 accepted none of ${tags.length}`);

    w0.worker.postMessage('stop');
    const [stopped] = (await once(w0.worker, 'message')) as [Listening];
    assert.equal(stopped.type, 'stopped');
    const after = await tagsOf(port, 30);
    assert.deepEqual(new Set(after), new Set(['w1:']));

    // A worker thread that dies takes only its own fd with it.
    await w0.worker.terminate();
    const afterExit = await tagsOf(port, 20);
    assert.deepEqual(new Set(afterExit), new Set(['w1:']));
  } finally {
    await w0.worker.terminate();
    await w1.worker.terminate();
  }
});

test('a port held by a socket without SO_REUSEPORT rejects start() with EADDRINUSE and the reason', async () => {
  const plain = net.createServer();
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  const port = (plain.address() as net.AddressInfo).port;
  try {
    const l = new TcpListener({ ...settings('busy', [echoChain()]), host: '127.0.0.1', port });
    await assert.rejects(l.start(), /EADDRINUSE.*SO_REUSEPORT/);
  } finally {
    plain.close();
  }
});

test('the FFI path and, where Node has it, the native reusePort option both bind a shared port', async () => {
  const modes: ('ffi' | 'native')[] = nativeReusePort ? ['ffi', 'native'] : ['ffi'];
  for (const mode of modes) {
    const a = new TcpListener({ ...settings('a', [echoChain('a:')]), host: '127.0.0.1', port: 0, reusePort: mode });
    await a.start();
    const b = new TcpListener({ ...settings('b', [echoChain('b:')]), host: '127.0.0.1', port: a.port, reusePort: mode });
    await b.start();
    assert.notEqual(a.fd, b.fd);
    assert.match(await roundTrip(a.port, 'x', 3), /^[ab]:x$/);
    await a.stopAccepting();
    assert.equal(await roundTrip(b.port, 'y', 3), 'b:y');
    await b.stopAccepting();
  }
});
