/**
 * WorkerNetwork builds listeners from config: a port-0 listener on a later worker binds the port the
 * first worker got; Unix listeners live on worker 0 only; bad filter configs fail at build time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActorRunLoop } from '../../src/actor/run-loop.js';
import { Registry } from '../../src/common/registry.js';
import type { NetworkFilterFactory } from '../../src/types/network.js';
import { WorkerNetwork } from '../../src/network/worker-network.js';
import type { ListenerConfigInput } from '../../src/network/worker-network.js';
import { builtinNetworkFilters } from '../../src/network/filters/index.js';
import { echoChain, roundTrip } from './helpers.js';

function registry(): Registry<NetworkFilterFactory> {
  const r = new Registry<NetworkFilterFactory>('network filter');
  for (const [name, f] of builtinNetworkFilters) r.register(name, f);
  r.register('echo', { create: () => echoChain() });
  return r;
}

const listeners: ListenerConfigInput[] = [
  { name: 'tcp', address: '127.0.0.1:0', filter_chains: [{ filters: [{ type: 'echo' }] }] },
  { name: 'sock', address: 'unix:/tmp/ringside-worker-network-test.sock', filter_chains: [{ filters: [{ type: 'echo' }] }] },
];

test('worker 1 binds the port worker 0 chose for a port-0 listener, and skips Unix listeners', async () => {
  const make = (workerIndex: number): WorkerNetwork =>
    new WorkerNetwork({ workerIndex, workerCount: 2, listeners, networkFilters: registry(), services: { runLoop: new ActorRunLoop() } });
  const w0 = make(0);
  const w1 = make(1);
  const ready0 = await w0.start([]);
  assert.deepEqual(ready0.map((r) => r.name), ['tcp', 'sock']);
  const tcp0 = ready0[0]!.address;
  assert.match(tcp0, /^127\.0\.0\.1:\d+$/);
  const ready1 = await w1.start(ready0);
  assert.deepEqual(ready1, [{ name: 'tcp', address: tcp0 }]);
  const port = Number(tcp0.split(':')[1]);
  assert.equal(await roundTrip(port, 'x', 1), 'x');
  const total = w0.stats().totalConnections + w1.stats().totalConnections;
  assert.equal(total, 1);
  await w0.stopAccepting();
  await w1.stopAccepting();
});

test('an invalid tcp_proxy config fails building the network, naming the path', () => {
  assert.throws(
    () =>
      new WorkerNetwork({
        workerIndex: 0,
        workerCount: 1,
        listeners: [{ name: 'l4', address: '127.0.0.1:0', filter_chains: [{ filters: [{ type: 'tcp_proxy', config: { cluster: 7 } }] }] }],
        networkFilters: registry(),
        services: { runLoop: new ActorRunLoop() },
      }),
    /listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.config\.cluster/,
  );
});
