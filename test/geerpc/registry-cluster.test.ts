/**
 * A GEERPC_REGISTRY cluster: the proxy's hosts are the servers a GeeRegistry reports alive (fresh
 * heartbeats); a server that stops heartbeating leaves the cluster once the registry expires it;
 * the registry going away keeps the last known hosts. And its config is checked with JSON paths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDataplane } from '../proxy/harness.js';
import { parseConfig } from '../../src/config/load.js';
import { configCatalog, createExtensions } from '../../src/extensions.js';
import { counter } from '../../src/common/counters.js';
import { Client, Registry, startHeartbeat } from '../../src/geerpc/index.js';
import { fooServer, until } from './helpers.js';

function config(cluster: Record<string, unknown>) {
  return {
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { headers: [{ name: 'service', value: 'Foo' }] }, route: { cluster_name: 'foo' } }] }] }],
        listeners: [{ name: 'gee', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'geerpc', router_config_name: 'r' } }] }] }],
      },
    ],
    cluster_manager: { clusters: [{ name: 'foo', lb_type: 'LB_ROUNDROBIN', ...cluster }] },
  };
}

test('GEERPC_REGISTRY: hosts are the servers with fresh heartbeats; an expired one leaves; the registry down keeps the last hosts', async (t) => {
  const registry = new Registry({ timeoutMs: 400 });
  const reg = await registry.listen('127.0.0.1', 0);
  let regOpen = true;
  t.after(() => (regOpen ? reg.close() : undefined));
  const [a, b] = [fooServer('a'), fooServer('b')];
  const [la, lb] = await Promise.all([a.listen('tcp@127.0.0.1:0'), b.listen('tcp@127.0.0.1:0')]);
  t.after(() => Promise.all([a.close(), b.close()]));
  const hbA = startHeartbeat(reg.url, la.addr, 100);
  const hbB = startHeartbeat(reg.url, lb.addr, 100);
  t.after(() => {
    hbA.stop();
    hbB.stop();
  });
  await until(() => registry.aliveServers().length === 2, 2000, 'both heartbeats');

  const dp = await startDataplane(config({ type: 'GEERPC_REGISTRY', geerpc_discovery: { registry_url: reg.url, refresh_interval: '100ms' } }));
  t.after(() => dp.close());
  const c = await Client.dial(`tcp@${dp.addresses.get('gee')!}`);
  t.after(() => c.close().catch(() => {}));
  const who = new Set([await c.call('Foo.Who', {}), await c.call('Foo.Who', {})]);
  assert.deepEqual([...who].sort(), ['a', 'b']);

  // b stops heartbeating: the registry drops it after 400 ms, the cluster at its next read.
  hbB.stop();
  await until(async () => {
    const seen = new Set([await c.call('Foo.Who', {}), await c.call('Foo.Who', {}), await c.call('Foo.Who', {})]);
    return seen.size === 1 && seen.has('a');
  }, 3000, 'b to leave the cluster');

  // The registry goes away: the outage is counted and a stays in use.
  const outages = counter('upstream.geerpc_discovery.outages');
  const before = outages.value;
  hbA.stop();
  await reg.close();
  regOpen = false;
  await until(() => outages.value > before, 3000, 'the outage to be counted');
  assert.equal(outages.value, before + 1, 'one outage, however many failed reads');
  assert.equal(await c.call('Foo.Sum', { Num1: 4, Num2: 5 }), 9);
});

test('geerpc_discovery is checked with JSON paths', () => {
  const catalog = configCatalog(createExtensions());
  const issues = (cluster: Record<string, unknown>): string => {
    try {
      parseConfig(config(cluster), 'test', { cores: 1, env: {}, catalog });
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };
  const at = 'cluster_manager.clusters[0]';
  assert.match(issues({ type: 'GEERPC_REGISTRY' }), new RegExp(`${at.replace(/[[\]]/g, '\\$&')}\\.geerpc_discovery\\.registry_url: a GEERPC_REGISTRY cluster needs the registry URL`));
  assert.match(issues({ type: 'GEERPC_REGISTRY', geerpc_discovery: { registry_url: 'ftp://x/y' } }), /geerpc_discovery\.registry_url: expected an http:\/\/ or https:\/\/ URL/);
  assert.match(issues({ type: 'GEERPC_ETCD', geerpc_discovery: {} }), /geerpc_discovery\.etcd_endpoints: a GEERPC_ETCD cluster needs at least one etcd endpoint/);
  assert.match(issues({ type: 'GEERPC_ETCD', geerpc_discovery: { etcd_endpoints: ['http://127.0.0.1:2379'] }, hosts: [{ address: '127.0.0.1:1' }] }), /clusters\[0\]\.hosts: a GEERPC_ETCD cluster's hosts come from geerpc_discovery/);
  assert.match(issues({ type: 'SIMPLE', geerpc_discovery: { registry_url: 'http://127.0.0.1:1/_geerpc_/registry' }, hosts: [{ address: '127.0.0.1:1' }] }), /clusters\[0\]\.geerpc_discovery: read only by GEERPC_REGISTRY and GEERPC_ETCD clusters/);
  assert.equal(issues({ type: 'GEERPC_REGISTRY', geerpc_discovery: { registry_url: 'http://127.0.0.1:1/_geerpc_/registry' } }), '');
});
