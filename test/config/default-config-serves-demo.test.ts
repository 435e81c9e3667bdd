import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { defaultConfigJson } from '../../src/config/default.js';
import { parseGrpcFilterConfig } from '../../src/config/filters.js';
import { configCatalog } from '../../src/extensions.js';

const catalog = configCatalog();

test('the embedded default config loads without warnings', () => {
  const loaded = defaultConfig({ env: {}, cores: 3, catalog });
  assert.deepEqual(loaded.warnings, []);
  assert.equal(loaded.source, 'embedded default config');
  assert.equal(loaded.config.ringside.workers, 3);
});

test('the default config serves the runtime API on 127.0.0.1:34904 through an in-process egress proxy', () => {
  const { config } = defaultConfig({ env: {}, catalog });
  const [grpc, egress] = config.servers[0]!.listeners;
  assert.deepEqual(grpc!.endpoint, { kind: 'tcp', host: '127.0.0.1', port: 34904 });
  const g = grpc!.filter_chains[0]!.filters[0]!;
  assert.equal(g.type, 'grpc');
  assert.deepEqual(parseGrpcFilterConfig(g.config, g.path).config.grpc_config.rpcs?.mosn.config.channel, [
    { size: 16, protocol: 'http', listener: 'egress_runtime_http' },
  ]);
  assert.deepEqual(egress!.endpoint, { kind: 'inprocess', name: 'egress_runtime_http' });
  assert.deepEqual(egress!.filter_chains[0]!.filters[0]!.config, {
    downstream_protocol: 'Http1',
    upstream_protocol: 'Http1',
    router_config_name: 'http_router',
  });
});

test('the default route sends only the demo id to the demo upstream', () => {
  const { config } = defaultConfig({ env: {}, catalog });
  const vhosts = config.servers[0]!.routers[0]!.virtual_hosts;
  assert.equal(vhosts.length, 1);
  assert.deepEqual(vhosts[0]!.domains, ['*']);
  assert.equal(vhosts[0]!.routers.length, 1);
  const route = vhosts[0]!.routers[0]!;
  assert.deepEqual(route.match.headers, [{ name: 'id', value: 'org.apache.dubbo.samples.UserProvider', regex: false }]);
  assert.equal(route.match.prefix, undefined);
  assert.equal(route.route?.cluster_name, 'demo_upstream');
  const cluster = config.cluster_manager.clusters[0]!;
  assert.equal(cluster.name, 'demo_upstream');
  assert.equal(cluster.lb_type, 'LB_RANDOM');
  assert.deepEqual(cluster.hosts.map((h) => h.address), ['127.0.0.1:34999']);
});

test('the default config turns on Dapr with default ports and the demo upstream', () => {
  const { config } = defaultConfig({ env: {}, catalog });
  assert.equal(config.ringside.dapr.enabled, true);
  assert.equal(config.ringside.dapr.grpc_port, 50001);
  assert.equal(config.ringside.dapr.http_port, 3500);
  assert.deepEqual(config.ringside.demo_upstream, {
    enabled: true,
    address: '127.0.0.1:34999',
    endpoint: { kind: 'tcp', host: '127.0.0.1', port: 34999 },
  });
  assert.equal(config.ringside.admin.address, '127.0.0.1:34901');
});

test('loading the default config twice yields independent objects', () => {
  const a = defaultConfig({ env: {}, catalog });
  a.config.servers[0]!.listeners.pop();
  const b = defaultConfig({ env: {}, catalog });
  assert.equal(b.config.servers[0]!.listeners.length, 2);
  assert.equal(defaultConfigJson.servers[0].listeners.length, 2);
});
