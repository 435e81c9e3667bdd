import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfigFile } from '../../src/config/load.js';
import { parseGrpcFilterConfig, parseProxyFilterConfig } from '../../src/config/filters.js';
import { fixture } from './helpers.js';
import { configCatalog } from '../../src/extensions.js';

const catalog = configCatalog();

/** Keys Layotto's demos carry that only label things in MOSN: accepted, warned with their path. */
const LAYOTTO_INFORMATIONAL_KEYS = [
  "servers[0].listeners[1].type: ignored: MOSN's ingress / egress tag is informational; every listener works the same",
  "servers[0].listeners[1].filter_chains[0].filters[0].config.name: ignored: MOSN's label for the filter instance is informational",
];

const env = { env: {}, cores: 2, catalog };

test("Layotto's demo/rpc/http/example.json loads unchanged; its log path and listener tag warn as not acted on", () => {
  const { config, warnings } = loadConfigFile(fixture('layotto-http-example.json'), { ...env, catalog });
  assert.deepEqual(warnings, LAYOTTO_INFORMATIONAL_KEYS);
  const [grpc, egress] = config.servers[0]!.listeners;
  assert.equal(grpc!.name, 'grpc');
  assert.deepEqual(grpc!.endpoint, { kind: 'tcp', host: '127.0.0.1', port: 34904 });
  assert.deepEqual(egress!.endpoint, { kind: 'tcp', host: '0.0.0.0', port: 12221 });
  const route = config.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!;
  assert.deepEqual(route.match.headers, [{ name: 'id', value: 'HelloService:1.0', regex: false }]);
  assert.equal(route.route?.cluster_name, 'http_server');
  const cluster = config.cluster_manager.clusters[0]!;
  assert.equal(cluster.lb_type, 'LB_RANDOM');
  assert.deepEqual(cluster.hosts[0]!.endpoint, { kind: 'tcp', host: '127.0.0.1', port: 8889 });
  assert.equal(cluster.hosts[0]!.hostname, 'downstream_machine1');
});

test("the http demo's grpc and proxy filter configs parse with their paths", () => {
  const { config } = loadConfigFile(fixture('layotto-http-example.json'), { ...env, catalog });
  const grpcFilter = config.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0]!;
  assert.equal(grpcFilter.path, 'servers[0].listeners[0].filter_chains[0].filters[0].config');
  const grpc = parseGrpcFilterConfig(grpcFilter.config, grpcFilter.path);
  assert.deepEqual(grpc.warnings, []);
  assert.equal(grpc.config.server_name, 'runtime');
  assert.deepEqual(grpc.config.grpc_config.rpcs?.mosn.config.channel, [{ size: 16, protocol: 'http', listener: 'egress_runtime_http' }]);
  const proxyFilter = config.servers[0]!.listeners[1]!.filter_chains[0]!.filters[0]!;
  const proxy = parseProxyFilterConfig(proxyFilter.config, proxyFilter.path);
  assert.equal(proxy.config.router_config_name, 'http_router');
  assert.equal(proxy.config.downstream_protocol, 'Http1');
  assert.equal(proxy.config.upstream_protocol, 'Http1');
});

test("Layotto's demo/rpc/dubbo_json_rpc/example.json loads unchanged with its before_invoke filter", () => {
  const { config, warnings } = loadConfigFile(fixture('layotto-dubbo-json-rpc-example.json'), { ...env, catalog });
  assert.deepEqual(warnings, LAYOTTO_INFORMATIONAL_KEYS);
  assert.equal(config.servers[0]!.default_log_level, 'debug');
  assert.equal(config.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!.match.regex, '.*');
  const f = config.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0]!;
  const mosn = parseGrpcFilterConfig(f.config, f.path).config.grpc_config.rpcs?.mosn.config;
  assert.deepEqual(mosn?.before_invoke, [{ name: 'dubbo_json_rpc', config: undefined }]);
  assert.deepEqual(mosn?.after_invoke, []);
  assert.equal(mosn?.channel[0]?.size, 1);
  assert.equal(config.cluster_manager.clusters[0]!.hosts[0]!.address, '127.0.0.1:20001');
});
