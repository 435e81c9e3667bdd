import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../../src/config/primitives.js';
import { assertIssue, baseConfig, configIssues, parse } from './helpers.js';

test('MOSN duration strings become milliseconds', () => {
  assert.deepEqual(parseDuration('1s'), { ok: true, value: 1000 });
  assert.deepEqual(parseDuration('500ms'), { ok: true, value: 500 });
  assert.deepEqual(parseDuration('3000ms'), { ok: true, value: 3000 });
  assert.deepEqual(parseDuration('1m30s'), { ok: true, value: 90_000 });
  assert.deepEqual(parseDuration('1.5s'), { ok: true, value: 1500 });
  assert.deepEqual(parseDuration('250us'), { ok: true, value: 0.25 });
  assert.deepEqual(parseDuration('0'), { ok: true, value: 0 });
});

test('plain numbers are milliseconds', () => {
  assert.deepEqual(parseDuration(750), { ok: true, value: 750 });
});

test('durations without a unit, negative or garbled are rejected', () => {
  for (const bad of ['10', '5 s', 's', '', '-1s', -5]) assert.equal(parseDuration(bad).ok, false, `accepted ${String(bad)}`);
});

test('durations in a config are normalized where they sit', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!.route, {
    timeout: '2s',
    retry_policy: { retry_on: true, retry_timeout: '500ms', num_retries: 2 },
  });
  Object.assign(cfg.servers[0]!.listeners[0]!, { connection_idle_timeout: '90s' });
  Object.assign(cfg.servers[0]!.listeners[1]!, { idle_timeout: 1500 });
  Object.assign(cfg.cluster_manager.clusters[0]!, {
    connect_timeout: '3000ms',
    health_check: { protocol: 'Http1', timeout: '1s', interval: '15s', check_config: { http_check_config: { path: '/health', timeout: '200ms' } } },
  });
  Object.assign(cfg, { ringside: { drain_timeout: '1m' } });
  const { config } = parse(cfg);
  const route = config.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!.route!;
  assert.equal(route.timeout, 2000);
  assert.deepEqual(route.retry_policy, { retry_on: true, retry_timeout: 500, num_retries: 2 });
  assert.equal(config.servers[0]!.listeners[0]!.connection_idle_timeout, 90_000);
  assert.equal(config.servers[0]!.listeners[1]!.connection_idle_timeout, 1500);
  const cluster = config.cluster_manager.clusters[0]!;
  assert.equal(cluster.connect_timeout, 3000);
  assert.equal(cluster.health_check?.kind, 'http');
  assert.equal(cluster.health_check?.timeout, 1000);
  assert.equal(cluster.health_check?.interval, 15_000);
  assert.equal(cluster.health_check?.check_config.http_check_config?.timeout, 200);
  assert.equal(cluster.health_check?.check_config.http_check_config?.path, '/health');
  assert.equal(config.ringside.drain_timeout, 60_000);
});

test('a bad duration in a config names its path', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!.route, { timeout: '2 seconds' });
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].routers[0].virtual_hosts[0].routers[0].route.timeout', /invalid duration "2 seconds"/);
  const typed = baseConfig();
  Object.assign(typed.cluster_manager.clusters[0]!, { connect_timeout: true });
  assertIssue(configIssues(() => parse(typed)), 'cluster_manager.clusters[0].connect_timeout', /expected a duration/);
});
