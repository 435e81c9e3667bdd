/**
 * Values the schema lets through but a worker's builders (routers, cluster manager, hosts, health
 * checkers) refuse are config errors at load, with their path — not a worker that dies at boot.
 * The loader builds those parts once on the main thread without starting them (ConfigCatalog.dryBuild).
 */
import { test } from 'node:test';
import { assertIssue, baseConfig, configIssues, parse } from './helpers.js';

type Base = ReturnType<typeof baseConfig>;

function withCluster(edit: (c: Base['cluster_manager']['clusters'][number] & Record<string, unknown>) => void): Base {
  const cfg = baseConfig();
  edit(cfg.cluster_manager.clusters[0]!);
  return cfg;
}

function withVirtualHosts(vhosts: unknown[]): unknown {
  const cfg = baseConfig() as unknown as { servers: { routers: { virtual_hosts: unknown[] }[] }[] };
  cfg.servers[0]!.routers[0]!.virtual_hosts = vhosts;
  return cfg;
}

const route = { match: { prefix: '/' }, route: { cluster_name: 'c1' } };

test('cluster values only the cluster builder refused are exit-2 errors at their path', () => {
  const at = 'cluster_manager.clusters[0]';
  assertIssue(configIssues(() => parse(withCluster((c) => (c.hosts = [{ address: '/tmp/upstream.sock' }])))), `${at}.hosts[0].address`, /expected host:port/);
  assertIssue(configIssues(() => parse(withCluster((c) => (c.health_check = { timeout: 0 })))), `${at}.health_check.timeout`, /positive number of ms/);
  assertIssue(configIssues(() => parse(withCluster((c) => (c.health_check = { interval: '0s' })))), `${at}.health_check.interval`, /positive number of ms/);
  assertIssue(
    configIssues(() => parse(withCluster((c) => (c.health_check = { protocol: 'http', check_config: { http_check_config: { path: 'health' } } })))),
    `${at}.health_check.check_config.http_check_config.path`,
    /must start with "\/"/,
  );
});

test('virtual host domains only the router builder refused are exit-2 errors at their path', () => {
  const vh = 'servers[0].routers[0].virtual_hosts';
  assertIssue(
    configIssues(() => parse(withVirtualHosts([{ name: 'a', domains: ['*'], routers: [route] }, { name: 'b', domains: ['*'], routers: [route] }]))),
    `${vh}[1].domains[0]`,
    /"\*" is already served by virtual host "a"/,
  );
  assertIssue(configIssues(() => parse(withVirtualHosts([{ name: 'a', domains: ['a.*.com'], routers: [route] }]))), `${vh}[0].domains[0]`, /wildcard may only lead or end/);
  assertIssue(configIssues(() => parse(withVirtualHosts([{ name: 'a', domains: ['x.test', 'x.test'], routers: [route] }]))), `${vh}[0].domains[1]`, /duplicate domain/);
});
