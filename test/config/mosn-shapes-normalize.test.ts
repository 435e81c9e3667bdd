import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertIssue, baseConfig, configIssues, parse } from './helpers.js';

test('header options flatten to key/value/append with MOSN append default', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.routers[0]!.virtual_hosts[0]!, {
    request_headers_to_add: [{ header: { key: 'x-a', value: '1' } }, { header: { key: 'x-b', value: '2' }, append: false }],
    response_headers_to_remove: ['server'],
  });
  const vh = parse(cfg).config.servers[0]!.routers[0]!.virtual_hosts[0]!;
  assert.deepEqual(vh.request_headers_to_add, [
    { key: 'x-a', value: '1', append: true },
    { key: 'x-b', value: '2', append: false },
  ]);
  assert.deepEqual(vh.response_headers_to_remove, ['server']);
});

test('direct responses need no cluster', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.routers[0]!.virtual_hosts[0]!.routers.push({ match: { path: '/healthz' }, direct_response: { status: 200, body: 'ok' } } as never);
  const routes = parse(cfg).config.servers[0]!.routers[0]!.virtual_hosts[0]!.routers;
  assert.deepEqual(routes[1]?.direct_response, { status: 200, body: 'ok' });
  assert.equal(routes[1]?.route, undefined);
});

test('circuit breakers take the first MOSN thresholds entry; 0 means no limit', () => {
  const cfg = baseConfig();
  Object.assign(cfg.cluster_manager.clusters[0]!, {
    circuit_breakers: [{ max_connections: 10, max_pending_requests: 0, max_requests: 100, max_retries: 3 }, { max_connections: 1 }],
  });
  const { config, warnings } = parse(cfg);
  assert.deepEqual(config.cluster_manager.clusters[0]!.circuit_breakers, { max_connections: 10, max_pending_requests: undefined, max_requests: 100, max_retries: 3 });
  assert.deepEqual(warnings, ['cluster_manager.clusters[0].circuit_breakers: only the first thresholds entry is used']);
});

test('health checks default to TCP with Ringside defaults', () => {
  const cfg = baseConfig();
  Object.assign(cfg.cluster_manager.clusters[0]!, { health_check: { protocol: 'tcp' } });
  const hc = parse(cfg).config.cluster_manager.clusters[0]!.health_check;
  assert.equal(hc?.kind, 'tcp');
  assert.equal(hc?.timeout, 3000);
  assert.equal(hc?.interval, 10_000);
  assert.equal(hc?.healthy_threshold, 1);
  assert.equal(hc?.unhealthy_threshold, 3);
});

test('an http_check_config makes an HTTP health check with MOSN defaults', () => {
  const cfg = baseConfig();
  Object.assign(cfg.cluster_manager.clusters[0]!, { health_check: { check_config: { http_check_config: { port: 8081 } } } });
  const hc = parse(cfg).config.cluster_manager.clusters[0]!.health_check;
  assert.equal(hc?.kind, 'http');
  assert.deepEqual(hc?.check_config.http_check_config, { port: 8081, path: '/', method: 'GET', codes: [200] });
});

test('an unsupported health check protocol is rejected', () => {
  const cfg = baseConfig();
  Object.assign(cfg.cluster_manager.clusters[0]!, { health_check: { protocol: 'bolt' } });
  assertIssue(configIssues(() => parse(cfg)), 'cluster_manager.clusters[0].health_check.protocol', /not supported/);
});

test('discovery-based cluster types are rejected', () => {
  const cfg = baseConfig();
  Object.assign(cfg.cluster_manager.clusters[0]!, { type: 'EDS' });
  assertIssue(configIssues(() => parse(cfg)), 'cluster_manager.clusters[0].type', /unknown cluster type "EDS" \(known: SIMPLE, STATIC/);
});

test('a cluster without hosts warns that its requests will get 503', () => {
  const cfg = baseConfig();
  cfg.cluster_manager.clusters[0]!.hosts = [];
  assert.deepEqual(parse(cfg).warnings, ['cluster_manager.clusters[0].hosts: cluster "c1" has no hosts; requests routed to it get 503']);
});

test('cluster defaults follow MOSN', () => {
  const c = parse(baseConfig()).config.cluster_manager.clusters[0]!;
  assert.equal(c.type, 'SIMPLE');
  assert.equal(c.max_request_per_conn, 0);
  assert.equal(c.connect_timeout, 3000);
  assert.deepEqual(c.circuit_breakers, {});
  assert.equal(c.health_check, undefined);
  assert.deepEqual(c.hosts[0], { address: '127.0.0.1:9000', weight: 1, endpoint: { kind: 'tcp', host: '127.0.0.1', port: 9000 } });
});

test('MOSN log levels map onto Ringside levels; unknown ones fail', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!, { default_log_level: 'WARN' });
  assert.equal(parse(cfg).config.servers[0]!.default_log_level, 'warn');
  Object.assign(cfg.servers[0]!, { default_log_level: 'LOUD' });
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].default_log_level', /expected one of FATAL, ERROR/);
});

test('stream filters keep their raw config and path', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.listeners[0]!, { stream_filters: [{ type: 'fault', config: { delay: { fixed_delay: '1s' } } }, { type: 'header_mutation', config: { request: { remove: ['x-a'] } } }] });
  const l = parse(cfg).config.servers[0]!.listeners[0]!;
  assert.deepEqual(l.stream_filters, [
    { type: 'fault', config: { delay: { fixed_delay: '1s' } }, path: 'servers[0].listeners[0].stream_filters[0].config' },
    { type: 'header_mutation', config: { request: { remove: ['x-a'] } }, path: 'servers[0].listeners[0].stream_filters[1].config' },
  ]);
});
