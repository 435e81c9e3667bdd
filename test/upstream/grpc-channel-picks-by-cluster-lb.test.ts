/**
 * The upstream gRPC channel over a cluster's hosts: each call is picked by the cluster's lb_type from
 * the load balancer registry, among the hosts whose subchannel can take it — two real grpc-js servers,
 * round robin alternating, random reaching both, a ring hash on a metadata key sticking to one host,
 * a failing host left out, and fail-fast UNAVAILABLE once every host is unreachable; the Layotto `grpc`
 * channel with ext.cluster on a worker's data plane. A `grpc` channel naming an unknown cluster is a
 * config error at its path.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { Registry } from '../../src/common/registry.js';
import { ClusterManager } from '../../src/upstream/cluster-manager.js';
import { registerBuiltinLoadBalancers } from '../../src/upstream/load-balancers.js';
import { GrpcChannel } from '../../src/upstream/grpc/channel.js';
import { DEFAULT_CONNECT_BACKOFF } from '../../src/upstream/grpc/defaults.js';
import type { LoadBalancerFactory } from '../../src/types/upstream.js';
import { cluster } from '../fixtures/config-shapes.js';
import { assertIssue, baseConfig, configIssues, parse } from '../config/helpers.js';
import { APP_CALLBACK_SERVICE, serviceDefinition } from '../../src/runtime/index.js';
import { client } from '../runtime/helpers.js';
import { startDataplane } from '../proxy/harness.js';

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };

/** A grpc-js server whose /test.Who/Name answers its own name (on `at`, host:port, when given). */
async function named(name: string, at = '127.0.0.1:0'): Promise<string> {
  const server = new grpc.Server();
  server.addService({ Name: { path: '/test.Who/Name', requestStream: false, responseStream: false, ...raw } }, {
    Name: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(name)),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(at, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  closers.push(() => server.forceShutdown());
  return `127.0.0.1:${port}`;
}

async function closedPort(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `127.0.0.1:${port}`;
}

function channelOver(hosts: string[], lbType: string, hashHeaders: string[] = [], backoffMs = 5000): GrpcChannel {
  const lbs = new Registry<LoadBalancerFactory>('load balancer');
  registerBuiltinLoadBalancers(lbs);
  const cm = new ClusterManager({ clusters: [cluster({ name: 'apps', type: 'SIMPLE', lb_type: lbType, hosts: hosts.map((address) => ({ address })) })] }, { loadBalancers: lbs });
  const channel = new GrpcChannel(
    { cluster: 'apps', source: { cluster: (n) => cm.getCluster(n), loadBalancer: (t) => lbs.get(t) }, hashHeaders },
    { maxConnectionsPerTarget: 1, backoff: { ...DEFAULT_CONNECT_BACKOFF, initialMs: backoffMs, jitter: 0 }, maxMessageBytes: 1 << 20 },
    { dialInProcess: undefined },
  );
  closers.push(() => {
    channel.close();
    cm.close();
  });
  return channel;
}

async function who(channel: GrpcChannel, metadata: string[] = []): Promise<string> {
  const r = await channel.unary({ path: '/test.Who/Name', authority: 'apps', metadata, deadline: Date.now() + 5000 }, Buffer.from('?'));
  assert.equal(r.code, 0, r.message);
  return r.body!.toString();
}

async function names(channel: GrpcChannel, n: number, metadata?: (i: number) => string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await who(channel, metadata?.(i)));
  return out;
}

test('LB_ROUNDROBIN alternates between the READY hosts; LB_RANDOM reaches both', async () => {
  const [a, b] = await Promise.all([named('a'), named('b')]);
  const rr = channelOver([a, b], 'LB_ROUNDROBIN');
  await who(rr); // the first call waits for the subchannels to connect
  await new Promise((r) => setTimeout(r, 50));
  const seq = await names(rr, 8);
  for (let i = 1; i < seq.length; i++) assert.notEqual(seq[i], seq[i - 1], `round robin alternates: ${seq.join('')}`);
  assert.deepEqual(rr.stats().targets.map((t) => t.state).sort(), ['READY', 'READY']);

  const random = channelOver([a, b], 'LB_RANDOM');
  await who(random);
  await new Promise((r) => setTimeout(r, 50));
  const picked = new Set(await names(random, 40));
  assert.deepEqual([...picked].sort(), ['a', 'b']);
});

test('a host that comes up after its connect failed rejoins the round robin once its backoff passes', async () => {
  const a = await named('a');
  const late = await closedPort();
  const ch = channelOver([a, late], 'LB_ROUNDROBIN', [], 150);
  assert.deepEqual(await names(ch, 3), ['a', 'a', 'a']);
  // Past the retry a waiting call asked for: the later ones come from the subchannel going IDLE.
  const lateTarget = () => ch.stats().targets.find((t) => t.target === late)!;
  const failedAgain = Date.now() + 3000;
  while (!(lateTarget().dialed >= 2 && lateTarget().state === 'TRANSIENT_FAILURE') && Date.now() < failedAgain) await new Promise((r) => setTimeout(r, 10));
  await named('b', late);
  // TRANSIENT_FAILURE → (150 ms) IDLE → connect again without waiting for a call that finds nothing.
  const deadline = Date.now() + 3000;
  while (!ch.stats().targets.every((t) => t.state === 'READY') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  assert.deepEqual(new Set(await names(ch, 4)), new Set(['a', 'b']));
});

test('LB_RING_HASH on a metadata key keeps each key on one host, and different keys reach both', async () => {
  const [a, b] = await Promise.all([named('a'), named('b')]);
  const ch = channelOver([a, b], 'LB_RING_HASH', ['x-user']);
  const byKey = new Map<string, Set<string>>();
  for (let round = 0; round < 3; round++) {
    for (let k = 0; k < 12; k++) {
      const host = await who(ch, ['x-user', `user-${k}`]);
      (byKey.get(`user-${k}`) ?? byKey.set(`user-${k}`, new Set()).get(`user-${k}`)!).add(host);
    }
  }
  for (const [k, hosts] of byKey) assert.equal(hosts.size, 1, `${k} stuck to one host: ${[...hosts].join(',')}`);
  assert.deepEqual([...new Set([...byKey.values()].map((s) => [...s][0]))].sort(), ['a', 'b'], 'the keys spread over both hosts');
});

test('a host that cannot be reached is left out; every host unreachable fails fast with CONNECT_FAILED', async () => {
  const a = await named('a');
  const dead = await closedPort();
  const ch = channelOver([dead, a], 'LB_ROUNDROBIN');
  assert.deepEqual(await names(ch, 6), ['a', 'a', 'a', 'a', 'a', 'a']);
  assert.ok(ch.stats().targets.some((t) => t.state === 'TRANSIENT_FAILURE'));

  const none = channelOver([dead, await closedPort()], 'LB_RING_HASH', ['x-user']);
  const started = Date.now();
  await assert.rejects(
    none.unary({ path: '/test.Who/Name', authority: 'apps', metadata: ['x-user', 'u1'], deadline: Date.now() + 4000 }, Buffer.from('?')),
    (err: Error & { code?: string }) => err.code === 'CONNECT_FAILED',
  );
  assert.ok(Date.now() - started < 3000, 'failed fast, not at the deadline');
});

test('a grpc channel ext.cluster must name a cluster of the file, its listener is warned as not dialed; hash_policy needs a cluster', () => {
  const withChannel = (ext: unknown) => {
    const cfg = baseConfig() as { servers: { listeners: unknown[] }[] };
    cfg.servers[0]!.listeners.push({
      name: 'rt',
      address: '127.0.0.1:0',
      bind_port: true,
      filter_chains: [{ filters: [{ type: 'grpc', config: { server_name: 'runtime', grpc_config: { rpcs: { mosn: { config: { channel: [{ protocol: 'grpc', listener: '127.0.0.1:1', size: 1, ext }] } } } } } }] }],
    });
    return cfg;
  };
  const at = 'servers[0].listeners[2].filter_chains[0].filters[0].config.grpc_config.rpcs.mosn.config.channel[0].ext';
  assertIssue(configIssues(() => parse(withChannel({ cluster: 'nope' }))), `${at}.cluster`, /no cluster named "nope"/);
  assertIssue(configIssues(() => parse(withChannel({ hash_policy: [{ header: { key: 'x-user' } }] }))), `${at}.hash_policy`, /set cluster/);
  const { warnings } = parse(withChannel({ cluster: 'c1', hash_policy: [{ header: { key: 'x-user' } }] }));
  assert.ok(warnings.some((w) => w.startsWith(`${at.slice(0, -'.ext'.length)}.listener: not dialed`)), warnings.join('\n'));
});

/** A grpc-js app whose AppCallback/OnInvoke answers its own name and the x-user metadata it got. */
async function app(name: string): Promise<string> {
  const server = new grpc.Server();
  server.addService(serviceDefinition(APP_CALLBACK_SERVICE), {
    OnInvoke: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, { data: { type_url: '', value: Buffer.from(`${name}:${String(call.metadata.get('x-user')[0] ?? '')}`) }, content_type: 'text/plain' }),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  closers.push(() => server.forceShutdown());
  return `127.0.0.1:${port}`;
}

test('the Layotto grpc channel with ext.cluster: InvokeService calls picked by the cluster ring hash on the caller metadata', async () => {
  const [a, b] = await Promise.all([app('a'), app('b')]);
  const plane = await startDataplane({
    servers: [
      {
        listeners: [
          {
            name: 'runtime',
            address: '127.0.0.1:0',
            bind_port: true,
            filter_chains: [
              {
                filters: [
                  {
                    type: 'grpc',
                    config: {
                      server_name: 'runtime',
                      grpc_config: { rpcs: { mosn: { config: { channel: [{ protocol: 'grpc', listener: 'apps-by-cluster:1', size: 1, ext: { cluster: 'apps', hash_policy: [{ header: { key: 'x-user' } }] } }] } } } },
                    },
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
    cluster_manager: { clusters: [{ name: 'apps', type: 'SIMPLE', lb_type: 'LB_RING_HASH', hosts: [{ address: a }, { address: b }] }] },
  });
  closers.push(() => plane.close());
  const layotto = client(plane.addresses.get('runtime')!, 'layotto');
  closers.push(() => layotto.close());
  const invoke = async (user: string): Promise<string> => {
    const res = await layotto.call('InvokeService', { id: 'orders', message: { method: 'who', data: { value: Buffer.from('x') }, content_type: 'text/plain' } }, { metadata: { 'x-user': user } });
    return Buffer.from(res.data.value).toString();
  };
  const answers = new Map<string, Set<string>>();
  for (let round = 0; round < 2; round++) {
    for (let k = 0; k < 10; k++) {
      const got = await invoke(`u${k}`);
      assert.match(got, new RegExp(`^[ab]:u${k}$`), 'the metadata reached the app');
      (answers.get(`u${k}`) ?? answers.set(`u${k}`, new Set()).get(`u${k}`)!).add(got);
    }
  }
  for (const [k, seen] of answers) assert.equal(seen.size, 1, `${k} stayed on one app`);
  assert.deepEqual([...new Set([...answers.values()].map((s) => [...s][0]![0]))].sort(), ['a', 'b'], 'both apps served some keys');
});
