import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status as Status } from '@grpc/grpc-js';
import { RingsideError } from '../../src/common/errors.js';
import { channelStats, client, eventually, grpcConfig, makeEnv, recordingUpstream, seedRequest, sleep, startRuntime } from './helpers.js';

test('InvokeService without an id answers INVALID_ARGUMENT and sends nothing upstream', async () => {
  const up = await recordingUpstream(() => ({ status: 200, body: '{}' }));
  const rt = await startRuntime(grpcConfig(up.address));
  const c = client(rt.grpc.address);
  try {
    await assert.rejects(c.call('InvokeService', seedRequest('')), (e: { code: number; details: string }) => {
      assert.equal(e.code, Status.INVALID_ARGUMENT);
      assert.match(e.details, /id is required/);
      return true;
    });
    assert.equal(up.seen.length, 0);
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});

test('a channel naming an unknown in-process listener answers UNAVAILABLE and keeps no slot', async () => {
  const env = makeEnv({
    dialInProcess: (name) => {
      throw new Error(`no listener named ${name}`);
    },
  });
  const rt = await startRuntime(grpcConfig('egress_nowhere', { size: 1 }), env);
  const c = client(rt.grpc.address);
  try {
    for (let i = 0; i < 3; i++) {
      await assert.rejects(c.call('InvokeService', seedRequest()), (e: { code: number; details: string }) => {
        assert.equal(e.code, Status.UNAVAILABLE);
        assert.match(e.details, /egress_nowhere/);
        return true;
      });
    }
    assert.equal(channelStats(rt).busy, 0);
  } finally {
    c.close();
    await rt.close();
  }
});

test('a message larger than max_grpc_message_bytes answers RESOURCE_EXHAUSTED', async () => {
  const up = await recordingUpstream(() => ({ status: 200, body: '{}' }));
  const rt = await startRuntime(grpcConfig(up.address), makeEnv({ maxGrpcMessageBytes: 1024 }));
  const c = client(rt.grpc.address);
  try {
    await assert.rejects(c.call('InvokeService', seedRequest(undefined, 'x'.repeat(4096))), (e: { code: number }) => e.code === Status.RESOURCE_EXHAUSTED);
    assert.equal(up.seen.length, 0);
    // The same connection still serves a call within the limit.
    await c.call('InvokeService', seedRequest());
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});

test('an upstream that never answers ends in DEADLINE_EXCEEDED at the caller deadline and the slot comes back', async () => {
  const up = await recordingUpstream(() => null);
  const rt = await startRuntime(grpcConfig(up.address, { size: 1 }));
  const c = client(rt.grpc.address);
  try {
    const t0 = Date.now();
    await assert.rejects(c.call('InvokeService', seedRequest(), { deadlineMs: 300 }), (e: { code: number }) => e.code === Status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - t0 < 2500, 'the shorter gRPC deadline wins over the 3000 ms default');
    assert.ok(await eventually(() => channelStats(rt).busy === 0), 'pool slot returned');
    // The hung connection is dropped, not reused.
    assert.ok(await eventually(() => up.openSockets() === 0), 'hung upstream connection closed');
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});

test('without a caller deadline the invoker gives up after its 3000 ms default', async () => {
  const up = await recordingUpstream(() => null);
  const rt = await startRuntime(grpcConfig(up.address, { size: 1 }));
  const c = client(rt.grpc.address);
  try {
    const t0 = Date.now();
    await assert.rejects(c.call('InvokeService', seedRequest()), (e: { code: number }) => e.code === Status.DEADLINE_EXCEEDED);
    const took = Date.now() - t0;
    assert.ok(took >= 2900 && took < 4500, `took ${took} ms`);
    assert.equal(channelStats(rt).busy, 0);
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});

test('a client that cancels gives its pool slot back, and a queued call then gets through', async () => {
  let hang = true;
  const up = await recordingUpstream(() => (hang ? null : { status: 200, body: '{"ok":true}' }));
  const rt = await startRuntime(grpcConfig(up.address, { size: 1 }));
  const c = client(rt.grpc.address);
  try {
    const first = c.start('InvokeService', seedRequest());
    first.done.catch(() => undefined);
    assert.ok(await eventually(() => up.seen.length === 1));
    assert.equal(channelStats(rt).busy, 1);
    hang = false;
    const second = c.call('InvokeService', seedRequest());
    assert.ok(await eventually(() => channelStats(rt).waiting === 1), 'second call waits for the only slot');
    first.call.cancel();
    await assert.rejects(first.done, (e: { code: number }) => e.code === Status.CANCELLED);
    const res = await second;
    assert.equal(Buffer.from(res.data.value).toString(), '{"ok":true}');
    assert.ok(await eventually(() => channelStats(rt).busy === 0 && channelStats(rt).waiting === 0));
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});

test('an upstream non-200 answers UNAVAILABLE with the status and body in the message', async () => {
  const up = await recordingUpstream(() => ({ status: 503, body: 'backend down' }));
  const rt = await startRuntime(grpcConfig(up.address));
  const c = client(rt.grpc.address);
  try {
    await assert.rejects(c.call('InvokeService', seedRequest()), (e: { code: number; details: string }) => {
      assert.equal(e.code, Status.UNAVAILABLE);
      assert.equal(e.details, 'http response code 503, body: backend down');
      return true;
    });
    assert.equal(channelStats(rt).busy, 0);
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});

test('an unreachable upstream answers UNAVAILABLE', async () => {
  const up = await recordingUpstream(() => ({ status: 200, body: '' }));
  const dead = up.address;
  await up.close();
  const rt = await startRuntime(grpcConfig(dead, { size: 1 }));
  const c = client(rt.grpc.address);
  try {
    await assert.rejects(c.call('InvokeService', seedRequest()), (e: { code: number }) => e.code === Status.UNAVAILABLE);
    assert.equal(channelStats(rt).busy, 0);
  } finally {
    c.close();
    await rt.close();
  }
});

test('an exception inside an invoker callback answers INTERNAL and the worker keeps serving', async () => {
  const up = await recordingUpstream(() => ({ status: 200, body: '{}' }));
  const env = makeEnv();
  env.invokerFilters.before.register('explode', {
    create: () => () => {
      throw new TypeError('boom');
    },
  });
  env.invokerFilters.before.register('refuse', { create: () => () => new RingsideError('BAD_REQUEST', 'downstream', 'refused by filter') });
  const rt = await startRuntime(grpcConfig(up.address, { before: ['explode'] }), env);
  const c = client(rt.grpc.address);
  try {
    await assert.rejects(c.call('InvokeService', seedRequest()), (e: { code: number; details: string }) => e.code === Status.INTERNAL && /boom/.test(e.details));
    await sleep(10);
    const hello = await c.call('SayHello', { name: 'still here' });
    assert.equal(hello.hello, 'hello, still here');
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});

test('a before_invoke callback that answers an error ends the call with that error\'s status', async () => {
  const up = await recordingUpstream(() => ({ status: 200, body: '{}' }));
  const env = makeEnv();
  env.invokerFilters.before.register('refuse', { create: () => () => new RingsideError('BAD_REQUEST', 'downstream', 'refused by filter') });
  const rt = await startRuntime(grpcConfig(up.address, { before: ['refuse'] }), env);
  const c = client(rt.grpc.address);
  try {
    await assert.rejects(c.call('InvokeService', seedRequest()), (e: { code: number }) => e.code === Status.INVALID_ARGUMENT);
    assert.equal(up.seen.length, 0);
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});
