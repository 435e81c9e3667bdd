import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/load.js';
import { assertIssue, baseConfig, configIssues, parse } from './helpers.js';

test('a malformed listener address fails with its path and the accepted forms', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[1]!.address = 'not a valid address';
  const issues = configIssues(() => parse(cfg));
  assertIssue(issues, 'servers[0].listeners[1].address', /^expected host:port, a socket path or a listener name/);
});

test('the ConfigError message lists each issue as path: reason', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[1]!.address = 'not a valid address';
  try {
    parse(cfg);
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /\n {2}servers\[0\]\.listeners\[1\]\.address: expected host:port, a socket path or a listener name/);
    assert.equal(err.source, 'test.json');
  }
});

test('listener ports above 65535 are rejected with the range', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[0]!.address = '127.0.0.1:70000';
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].listeners[0].address', /port 70000 is out of range \(0-65535\)/);
});

test('upstream hosts may not use port 0', () => {
  const cfg = baseConfig();
  cfg.cluster_manager.clusters[0]!.hosts[0]!.address = '127.0.0.1:0';
  assertIssue(configIssues(() => parse(cfg)), 'cluster_manager.clusters[0].hosts[0].address', /port 0 is out of range \(1-65535\)/);
});

test('ringside.dapr ports must be valid port numbers', () => {
  const cfg = { ...baseConfig(), ringside: { dapr: { grpc_port: 65536, http_port: 'x' } } };
  const issues = configIssues(() => parse(cfg));
  assertIssue(issues, 'ringside.dapr.grpc_port', /out of range \(1-65535\)/);
  assertIssue(issues, 'ringside.dapr.http_port', /port number/);
});

test('a wrong type names what was expected and what was found', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.listeners[0]!, { bind_port: 'yes' });
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].listeners[0].bind_port', /^expected boolean, got string "yes"$/);
});

test('a missing required key says it is required', () => {
  const cfg = baseConfig();
  delete (cfg.servers[0]!.listeners[0] as { address?: string }).address;
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].listeners[0].address', /^required \(expected string\)$/);
});

test('an unknown lb_type lists the known load balancers', () => {
  const cfg = baseConfig();
  cfg.cluster_manager.clusters[0]!.lb_type = 'LB_FASTEST';
  assertIssue(configIssues(() => parse(cfg)), 'cluster_manager.clusters[0].lb_type', /unknown load balancer "LB_FASTEST" \(known: LB_RANDOM, LB_ROUNDROBIN, /);
});

test('a bad value inside a filter config names the path inside the config', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.listeners[1]!.filter_chains[0]!.filters[0]!.config, { cluster: 42 });
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].listeners[1].filter_chains[0].filters[0].config.cluster', /^expected string, got number 42$/);
});

test('a grpc channel with an unknown protocol fails inside the grpc filter config', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0] = {
    type: 'grpc',
    config: { server_name: 'runtime', grpc_config: { rpcs: { mosn: { config: { channel: [{ protocol: 'smtp', listener: 'l1', size: 1 }] } } } } },
  } as never;
  assertIssue(
    configIssues(() => parse(cfg)),
    'servers[0].listeners[0].filter_chains[0].filters[0].config.grpc_config.rpcs.mosn.config.channel[0].protocol',
    /no channel protocol "smtp" in this build \(known: http, /,
  );
});

test('a route match with two path matchers is rejected', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!.match, { path: '/x' });
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].routers[0].virtual_hosts[0].routers[0].match', /only one of prefix, path, regex/);
});

test('an invalid route regex is rejected where it is written', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!.match = { regex: '([a-z' } as never;
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].routers[0].virtual_hosts[0].routers[0].match.regex', /invalid regular expression/);
});

test('a route with neither route nor direct_response is rejected', () => {
  const cfg = baseConfig();
  delete (cfg.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0] as { route?: unknown }).route;
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].routers[0].virtual_hosts[0].routers[0]', /exactly one of route, direct_response/);
});

test('every issue in a file is reported at once', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[0]!.address = 'bad address';
  cfg.cluster_manager.clusters[0]!.lb_type = 'nope';
  assert.equal(configIssues(() => parse(cfg)).length, 2);
});

test('a config that is not an object fails at the root', () => {
  assertIssue(configIssues(() => parse([])), '', /expected object, got array/);
});

test('an empty servers list fails', () => {
  assertIssue(configIssues(() => parse({ servers: [] })), 'servers', /at least one server/);
});
