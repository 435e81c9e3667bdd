/**
 * WorkerNetwork builds listeners from config: a port-0 listener on a later worker binds the port the
 * first worker got; Unix listeners live on worker 0 only; bad filter configs fail at build time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActorRunLoop } from '../../src/actor/run-loop.js';
import { Registry } from '../../src/common/registry.js';
import type { NetworkFilterFactory } from '../../src/types/network.js';
import type { TcpProxyDeps } from '../../src/network/filters/index.js';
import { WorkerNetwork } from '../../src/network/worker-network.js';
import type { ListenerConfigInput } from '../../src/network/worker-network.js';
import { tcpProxyFactory } from '../../src/network/filters/index.js';
import { echoChain, roundTrip } from './helpers.js';

function registry(): Registry<NetworkFilterFactory<TcpProxyDeps>> {
  const r = new Registry<NetworkFilterFactory<TcpProxyDeps>>('network filter');
  r.register('tcp_proxy', tcpProxyFactory);
  r.register('echo', { create: () => echoChain() });
  return r;
}

/** The tcp_proxy in these tests is never reached by a connection, so no cluster is ever asked. */
function deps(): { services: TcpProxyDeps; runLoop: ActorRunLoop } {
  const runLoop = new ActorRunLoop();
  return { services: { runLoop, clusterManager: { chooseHost: () => undefined } }, runLoop };
}

const listeners: ListenerConfigInput[] = [
  { name: 'tcp', address: '127.0.0.1:0', filter_chains: [{ filters: [{ type: 'echo' }] }] },
  { name: 'sock', address: 'unix:/tmp/ringside-worker-network-test.sock', filter_chains: [{ filters: [{ type: 'echo' }] }] },
];

test('worker 1 binds the port worker 0 chose for a port-0 listener, and skips Unix listeners', async () => {
  const make = (workerIndex: number): WorkerNetwork =>
    new WorkerNetwork({ workerIndex, workerCount: 2, listeners, networkFilters: registry(), ...deps() });
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
        ...deps(),
      }),
    /listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.config\.cluster/,
  );
});
