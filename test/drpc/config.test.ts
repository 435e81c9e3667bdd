/**
 * The dRPC listener's config: `drpc:/path` addresses, the `drpc` filter's keys validated on the main
 * thread with their JSON paths, and the filter refused anywhere but on a drpc: listener.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertIssue, baseConfig, configIssues, parse } from '../config/helpers.js';
import { WorkerNetwork } from '../../src/network/worker-network.js';
import { createExtensions } from '../../src/extensions.js';

function withDrpcListener(filter: Record<string, unknown>, address = 'drpc:/tmp/x.sock'): ReturnType<typeof baseConfig> {
  const cfg = baseConfig();
  (cfg.servers[0]!.listeners as unknown[]).push({ name: 'drpc', address, filter_chains: [{ filters: [filter] }] });
  return cfg;
}

test('a drpc:/path listener with the drpc filter loads; socket_mode defaults to 0600 and reads octal strings', () => {
  const loaded = parse(withDrpcListener({ type: 'drpc', config: { socket_mode: '0660' } }));
  const l = loaded.config.servers[0]!.listeners.find((x) => x.name === 'drpc')!;
  assert.deepEqual(l.endpoint, { kind: 'drpc', path: '/tmp/x.sock' });
});

test('bad drpc filter values fail with their JSON path', () => {
  const n = baseConfig().servers[0]!.listeners.length;
  const at = `servers[0].listeners[${n}]`;
  assertIssue(configIssues(() => parse(withDrpcListener({ type: 'drpc', config: { socket_mode: '0999' } }))), `${at}.filter_chains[0].filters[0].config.socket_mode`, /invalid socket mode/);
  assertIssue(configIssues(() => parse(withDrpcListener({ type: 'drpc', config: { max_message_bytes: 0 } }))), `${at}.filter_chains[0].filters[0].config.max_message_bytes`, /≥ 1/);
  assertIssue(configIssues(() => parse(withDrpcListener({ type: 'drpc' }, 'drpc:'))), `${at}.address`, /drpc: needs a socket path/);
});

test('the drpc filter only on a drpc: listener, and a drpc: listener only with the drpc filter', () => {
  const ext = createExtensions();
  const build = (address: string, type: string): WorkerNetwork =>
    new WorkerNetwork({
      workerIndex: 0,
      workerCount: 1,
      listeners: [{ name: 'l', address, filter_chains: [{ filters: [{ type, config: type === 'tcp_proxy' ? { cluster: 'c' } : {} }] }] }],
      networkFilters: ext.networkFilters,
      // Neither build gets as far as a connection or the runtime host.
      services: {} as never,
      runLoop: {} as never,
    });
  assert.throws(() => build('127.0.0.1:0', 'drpc'), /drpc filter serves a listener whose address is drpc:/);
  assert.throws(() => build('drpc:/tmp/y.sock', 'tcp_proxy'), /a drpc: listener takes exactly one filter, "drpc" \(the runtime API\) or "proxy" \(got tcp_proxy\)/);
});

/** baseConfig plus a drpc: proxy listener, router `dr` and a cluster `dc` of dRPC hosts. */
function withDrpcProxy(edit: (cfg: Record<string, any>) => void = () => {}): Record<string, any> {
  const cfg = baseConfig() as Record<string, any>;
  cfg.servers[0].routers.push({ router_config_name: 'dr', virtual_hosts: [{ name: 'v', domains: ['*'], routers: [{ match: { headers: [{ name: 'module', value: '20' }] }, route: { cluster_name: 'dc' } }] }] });
  cfg.servers[0].listeners.push({
    name: 'dp',
    address: 'drpc:/tmp/dp.sock',
    socket_mode: '0640',
    filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'drpc', upstream_protocol: 'drpc', router_config_name: 'dr' } }] }],
  });
  cfg.cluster_manager.clusters.push({ name: 'dc', hosts: [{ address: 'drpc:/tmp/up.sock' }] });
  edit(cfg);
  return cfg;
}

test('a dRPC proxy config loads: drpc:/path hosts, the listener socket_mode', () => {
  const loaded = parse(withDrpcProxy());
  const l = loaded.config.servers[0]!.listeners.find((x) => x.name === 'dp')!;
  assert.equal(l.socket_mode, 0o640);
  const c = loaded.config.cluster_manager.clusters.find((x) => x.name === 'dc')!;
  assert.deepEqual(c.hosts[0]!.endpoint, { kind: 'drpc', path: '/tmp/up.sock' });
});

test('dRPC misuse fails the load with its JSON path', () => {
  const n = baseConfig().servers[0]!.listeners.length;
  const dp = `servers[0].listeners[${n}]`;
  const cases: [(cfg: Record<string, any>) => void, string, RegExp][] = [
    [(c) => (c.servers[0].listeners[n].filter_chains[0].filters[0].config.downstream_protocol = 'Http1'), `${dp}.filter_chains[0].filters[0].config.downstream_protocol`, /must be "drpc"/],
    [(c) => (c.servers[0].listeners[0].filter_chains[0].filters[0].config.downstream_protocol = 'drpc'), 'servers[0].listeners[0].filter_chains[0].filters[0].config.downstream_protocol', /served on a drpc:\/path listener/],
    [(c) => (c.servers[0].listeners[n].filter_chains[0].filters[0].config.upstream_protocol = 'Http1'), `${dp}.filter_chains[0].filters[0].config.upstream_protocol`, /no transcoding/],
    [(c) => (c.servers[0].listeners[n].filter_chains[0].tls_context = { status: false }), `${dp}.filter_chains[0].tls_context`, /TLS does not apply to a drpc: listener/],
    [(c) => (c.servers[0].listeners[0].socket_mode = '0600'), 'servers[0].listeners[0].socket_mode', /drpc:\/path listeners only/],
    [(c) => (c.servers[0].listeners[n].socket_mode = '0800'), `${dp}.socket_mode`, /invalid socket mode/],
    [(c) => c.cluster_manager.clusters[1].hosts.push({ address: '127.0.0.1:9001' }), 'cluster_manager.clusters[1].hosts[1].address', /every host must be one/],
    [(c) => (c.cluster_manager.clusters[1].health_check = { protocol: 'tcp' }), 'cluster_manager.clusters[1].health_check', /health checks dial TCP/],
    [(c) => (c.servers[0].routers[0].virtual_hosts[0].routers[0].route.cluster_name = 'dc'), 'servers[0].routers[0].virtual_hosts[0].routers[0].route.cluster_name', /has dRPC hosts .* sends Http1/],
    [(c) => (c.servers[0].routers[1].virtual_hosts[0].routers[0].route.cluster_name = 'c1'), 'servers[0].routers[1].virtual_hosts[0].routers[0].route.cluster_name', /not dRPC sockets/],
  ];
  for (const [edit, path, message] of cases) assertIssue(configIssues(() => parse(withDrpcProxy(edit))), path, message);
  // upstream_protocol left out means the downstream's: drpc.
  parse(withDrpcProxy((c) => delete c.servers[0].listeners[n].filter_chains[0].filters[0].config.upstream_protocol));
});
