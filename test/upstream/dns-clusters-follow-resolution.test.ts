/**
 * STRICT_DNS and LOGICAL_DNS clusters: hosts come from resolving the configured names, again every
 * dns_refresh_rate; hosts that stay keep their identity (stats, pools), hosts that leave DNS leave
 * the set. The scripted resolver stands in for a DNS server whose answers change, which this
 * machine does not have; the last test resolves "localhost" through the system resolver and carries
 * a real request.
 */
import { clusters } from '../fixtures/config-shapes.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/common/registry.js';
import { ClusterManager } from '../../src/upstream/cluster-manager.js';
import { registerBuiltinLoadBalancers } from '../../src/upstream/load-balancers.js';
import { registerBuiltinClusterTypes, type ClusterTypeFactory, type Lookup } from '../../src/upstream/cluster-types.js';
import type { LoadBalancerFactory } from '../../src/types/upstream.js';
import { cluster, proxyConfig, request, startDataplane, startUpstream } from '../proxy/harness.js';

function registries(lookup: Lookup) {
  const loadBalancers = new Registry<LoadBalancerFactory>('load balancer');
  registerBuiltinLoadBalancers(loadBalancers);
  const clusterTypes = new Registry<ClusterTypeFactory>('cluster type');
  registerBuiltinClusterTypes(clusterTypes, lookup);
  return { loadBalancers, clusterTypes };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('STRICT_DNS: every address is a host, re-resolution adds and drops hosts, a failed lookup keeps the last answer', async () => {
  let answer: string[] | Error = ['10.0.0.1', '10.0.0.2'];
  const asked: [string, number][] = [];
  const cm = new ClusterManager(
    clusters({ name: 'svc', type: 'STRICT_DNS', lb_type: 'LB_ROUNDROBIN', dns_refresh_rate: 30, dns_lookup_family: 'V4_ONLY', hosts: [{ address: 'svc.internal:8080', weight: 2 }] }),
    registries(async (name, family) => {
      asked.push([name, family]);
      if (answer instanceof Error) throw answer;
      return answer;
    }),
  );
  await cm.start();
  const set = cm.getCluster('svc')!.hostSet;
  assert.deepEqual(set.hosts.map((h) => [h.address, h.hostname, h.weight]), [['10.0.0.1:8080', 'svc.internal', 2], ['10.0.0.2:8080', 'svc.internal', 2]]);
  assert.deepEqual(asked[0], ['svc.internal', 4]);
  const kept = set.hosts[1]!;
  answer = ['10.0.0.2', '10.0.0.3'];
  await wait(120);
  assert.deepEqual(set.hosts.map((h) => h.address), ['10.0.0.2:8080', '10.0.0.3:8080']);
  assert.equal(set.hosts[0], kept, 'a host that stays in DNS keeps its object');
  answer = Object.assign(new Error('no answer'), { code: 'ENOTFOUND' });
  await wait(120);
  assert.deepEqual(set.hosts.map((h) => h.address), ['10.0.0.2:8080', '10.0.0.3:8080']);
  cm.close();
});

test('LOGICAL_DNS: only the first address of each name is a host', async () => {
  const cm = new ClusterManager(
    clusters({ name: 'svc', type: 'LOGICAL_DNS', lb_type: 'LB_RANDOM', hosts: [{ address: 'a.internal:80' }, { address: 'b.internal:81' }] }),
    registries(async (name) => (name === 'a.internal' ? ['10.1.0.1', '10.1.0.2'] : ['fd00::9', '10.2.0.1'])),
  );
  await cm.start();
  assert.deepEqual(cm.getCluster('svc')!.hostSet.hosts.map((h) => h.address), ['10.1.0.1:80', '[fd00::9]:81']);
  cm.close();
});

test('a STRICT_DNS cluster on "localhost" carries a request through the data plane', async (t) => {
  const up = await startUpstream((_req, res) => res.end('via dns'));
  t.after(() => up.close());
  const port = up.address.split(':')[1];
  const dp = await startDataplane(
    proxyConfig({
      routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }],
      clusters: [cluster('c', [`localhost:${port}`], { type: 'STRICT_DNS', dns_lookup_family: 'V4_ONLY' })],
    }),
  );
  t.after(() => dp.close());
  const r = await request(dp.addresses.get('ingress')!);
  assert.equal(r.body, 'via dns');
});
