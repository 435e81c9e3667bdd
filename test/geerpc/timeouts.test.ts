import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Client } from '../../src/geerpc/index.js';
import { fooServer } from './helpers.js';

test('connect timeout: a peer that accepts but never answers the HTTP CONNECT fails the dial in time', async () => {
  const silent = createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const start = Date.now();
  try {
    await assert.rejects(Client.dial(`http@127.0.0.1:${port}`, { connectTimeoutMs: 200 }), {
      code: 'CONNECT_TIMEOUT',
      message: 'rpc client: connect timeout: expect within 200ms',
    });
    assert.ok(Date.now() - start < 2000);
  } finally {
    silent.close();
  }
});

test('a refused dial fails at once with CONNECT_FAILED', async () => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  await assert.rejects(Client.dial(`tcp@127.0.0.1:${port}`), { code: 'CONNECT_FAILED' });
});

test("call deadline: the call fails with Go's words, the late reply is dropped, the client carries on", async () => {
  const server = fooServer();
  const l = await server.listen('tcp@127.0.0.1:0');
  const client = await Client.dial(l.addr);
  try {
    await assert.rejects(client.call('Foo.Sleep', { Num1: 300, Num2: 1 }, { timeoutMs: 50 }), {
      code: 'DEADLINE_EXCEEDED',
      message: 'rpc client: call failed: context deadline exceeded',
    });
    assert.equal(client.pendingCalls, 0);
    // The late reply (Seq of the timed-out call) arrives while this call waits; it must not answer it.
    assert.equal(await client.call('Foo.Sleep', { Num1: 400, Num2: 5 }), 405);
    const ac = new AbortController();
    const cancelled = client.call('Foo.Sleep', { Num1: 300, Num2: 0 }, { signal: ac.signal });
    ac.abort();
    await assert.rejects(cancelled, { code: 'CANCELLED', message: 'rpc client: call failed: context canceled' });
    assert.equal(await client.call('Foo.Sum', { Num1: 1, Num2: 1 }), 2);
  } finally {
    await client.close();
    await server.close();
  }
});

test("handle timeout: the client's HandleTimeout makes the server answer the timeout error; quick calls are unaffected", async () => {
  const server = fooServer();
  const l = await server.listen('tcp@127.0.0.1:0');
  const client = await Client.dial(l.addr, { handleTimeoutMs: 100 });
  try {
    await assert.rejects(client.call('Foo.Sleep', { Num1: 400, Num2: 0 }), {
      code: 'SERVER',
      message: 'rpc server: request handle timeout: expect within 100ms',
    });
    assert.equal(await client.call('Foo.Sleep', { Num1: 10, Num2: 2 }), 12);
  } finally {
    await client.close();
    await server.close();
  }
});
