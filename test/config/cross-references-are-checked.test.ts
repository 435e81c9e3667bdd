import { test } from 'node:test';
import { assertIssue, baseConfig, configIssues, parse } from './helpers.js';

test('two listeners with one name fail at the second, naming the first', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[1]!.name = 'l1';
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].listeners[1].name', /duplicate listener name "l1" \(first at servers\[0\]\.listeners\[0\]\.name\)/);
});

test('two clusters with one name fail at the second', () => {
  const cfg = baseConfig();
  cfg.cluster_manager.clusters.push({ name: 'c1', lb_type: 'LB_RANDOM', hosts: [{ address: '127.0.0.1:9001' }] });
  assertIssue(configIssues(() => parse(cfg)), 'cluster_manager.clusters[1].name', /duplicate cluster name "c1"/);
});

test('two listeners bound to one address fail', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[0]!.address = '127.0.0.1:8080';
  cfg.servers[0]!.listeners[1]!.address = '127.0.0.1:8080';
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].listeners[1].address', /duplicate listener address "127.0.0.1:8080"/);
});

test('a proxy filter naming an undefined router fails at its router_config_name', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0]!.config = { downstream_protocol: 'Http1', router_config_name: 'missing' } as never;
  assertIssue(
    configIssues(() => parse(cfg)),
    'servers[0].listeners[0].filter_chains[0].filters[0].config.router_config_name',
    /no router named "missing" \(known: r1\)/,
  );
});

test('a tcp_proxy naming an undefined cluster fails at its cluster', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[1]!.filter_chains[0]!.filters[0]!.config = { cluster: 'nowhere' } as never;
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].listeners[1].filter_chains[0].filters[0].config.cluster', /no cluster named "nowhere" \(known: c1\)/);
});

test('a tcp_proxy route naming an undefined cluster fails at that route', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[1]!.filter_chains[0]!.filters[0]!.config = { routes: [{ cluster: 'c1' }, { cluster: 'c9' }] } as never;
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].listeners[1].filter_chains[0].filters[0].config.routes[1].cluster', /no cluster named "c9"/);
});

test('a route naming an undefined cluster fails at its cluster_name', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!.route.cluster_name = 'ghost';
  assertIssue(
    configIssues(() => parse(cfg)),
    'servers[0].routers[0].virtual_hosts[0].routers[0].route.cluster_name',
    /no cluster named "ghost" \(known: c1\)/,
  );
});

test('weighted clusters naming an undefined cluster fail at that entry (MOSN array form)', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!.route = {
    weighted_clusters: [{ cluster: { name: 'c1', weight: 1 } }, { cluster: { name: 'c2', weight: 1 } }],
  } as never;
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].routers[0].virtual_hosts[0].routers[0].route.weighted_clusters[1].cluster.name', /no cluster named "c2"/);
});

test('weighted clusters naming an undefined cluster fail at that entry ({clusters: [...]} form)', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!.route = {
    weighted_clusters: { clusters: [{ cluster: { name: 'c3', weight: 2 } }] },
  } as never;
  assertIssue(
    configIssues(() => parse(cfg)),
    'servers[0].routers[0].virtual_hosts[0].routers[0].route.weighted_clusters.clusters[0].cluster.name',
    /no cluster named "c3"/,
  );
});

test('weighted clusters whose weights add up to 0 fail', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!.route = {
    weighted_clusters: [{ cluster: { name: 'c1', weight: 0 } }],
  } as never;
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].routers[0].virtual_hosts[0].routers[0].route.weighted_clusters', /weights add up to 0/);
});
