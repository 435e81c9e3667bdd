import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnPool, RuntimeConfigError, RuntimeHost, parseGrpcFilterConfig } from '../../src/runtime/index.js';
import { RingsideError } from '../../src/common/errors.js';
import { makeEnv } from './helpers.js';

// The grpc filter config of Layotto's demo/rpc/dubbo_json_rpc/example.json, unchanged.
const LAYOTTO_DUBBO_JSON_RPC = {
  server_name: 'runtime',
  grpc_config: {
    rpcs: {
      mosn: {
        type: 'mosn',
        config: {
          before_invoke: [{ name: 'dubbo_json_rpc' }],
          channel: [{ size: 1, protocol: 'http', listener: 'egress_runtime_http' }],
        },
      },
    },
  },
};

test('the grpc filter config of Layotto\'s dubbo_json_rpc and http demos loads unchanged', () => {
  const cfg = parseGrpcFilterConfig(LAYOTTO_DUBBO_JSON_RPC, 'f');
  assert.equal(cfg.server_name, 'runtime');
  assert.deepEqual(cfg.invoker, { before_invoke: [{ name: 'dubbo_json_rpc', config: undefined }], after_invoke: [], channel: [{ size: 1, protocol: 'http', listener: 'egress_runtime_http' }], timeout: 3000 });
  const http = structuredClone(LAYOTTO_DUBBO_JSON_RPC) as { grpc_config: { rpcs: { mosn: { config: Record<string, unknown> } } } };
  delete http.grpc_config.rpcs.mosn.config['before_invoke'];
  assert.equal(parseGrpcFilterConfig(http, 'f').invoker?.before_invoke.length, 0);
});

test('invalid grpc filter configs fail with the JSON path of the bad value', () => {
  const bad = (mutate: (c: any) => void, path: RegExp): void => {
    const c = structuredClone(LAYOTTO_DUBBO_JSON_RPC);
    mutate(c);
    assert.throws(() => new RuntimeHost(makeEnv()).grpcFilterFactory.create(c, 'listeners[0].filters[0].config', { workerIndex: 0, listenerName: 'grpc', services: {} }), (e: Error) => {
      assert.ok(e instanceof RuntimeConfigError, e.message);
      assert.match(e.path, path);
      return true;
    });
  };
  bad((c) => (c.grpc_config.rpcs.mosn.config.channel = []), /\.channel$/);
  bad((c) => (c.grpc_config.rpcs.mosn.config.channel[0].size = 0), /\.channel\[0\]\.size$/);
  bad((c) => (c.grpc_config.rpcs.mosn.config.channel[0].protocol = 'thrift'), /\.channel\[0\]\.protocol$/);
  bad((c) => (c.grpc_config.rpcs.mosn.config.before_invoke[0].name = 'nope'), /\.before_invoke\[0\]\.name$/);
  bad((c) => (c.grpc_config.rpcs.other = {}), /\.rpcs\.other$/);
  bad((c) => (c.grpc_config.rpcs.mosn.config.timeout = 'soon'), /\.timeout$/);
  bad((c) => (c.grpc_config.rpcs.mosn.config.timeout = 0), /\.timeout$/);
});

class FakeConn {
  closed = false;
  destroy(): void {
    this.closed = true;
  }
}

test('the pool lends at most size connections and serves waiters first come, first served', () => {
  let dialed = 0;
  const pool = new ConnPool(2, () => (dialed++, new FakeConn()));
  const got: string[] = [];
  const held: FakeConn[] = [];
  const take = (name: string) => pool.take((c) => (assert.ok(!(c instanceof RingsideError)), got.push(name), held.push(c as FakeConn)));
  take('a');
  take('b');
  take('c');
  take('d');
  assert.deepEqual(got, ['a', 'b']);
  assert.equal(pool.waiting, 2);
  pool.release(held[0]!, false);
  assert.deepEqual(got, ['a', 'b', 'c']);
  pool.release(held[1]!, false);
  assert.deepEqual(got, ['a', 'b', 'c', 'd']);
  assert.equal(dialed, 2, 'released connections are reused');
});

test('a broken connection leaves the pool and a cancelled waiter leaves the queue', () => {
  let dialed = 0;
  const pool = new ConnPool(1, () => (dialed++, new FakeConn()));
  const held: FakeConn[] = [];
  const got: string[] = [];
  pool.take((c) => held.push(c as FakeConn));
  const ticket = pool.take(() => got.push('cancelled one'))!;
  pool.take((c) => (got.push('next'), held.push(c as FakeConn)));
  pool.cancel(ticket);
  pool.release(held[0]!, true);
  assert.equal(held[0]!.closed, true);
  assert.deepEqual(got, ['next']);
  assert.equal(dialed, 2, 'a fresh connection replaces the broken one');
  pool.release(held[1]!, false);
  assert.equal(pool.busy, 0);
  assert.equal(pool.idle, 1);
});

test('a failed dial gives the turn back and reports the error', () => {
  const pool = new ConnPool(1, () => {
    throw new RingsideError('UNAVAILABLE', 'internal', 'no listener');
  });
  let err: unknown;
  pool.take((c) => (err = c));
  assert.ok(err instanceof RingsideError);
  assert.equal(pool.busy, 0);
});
