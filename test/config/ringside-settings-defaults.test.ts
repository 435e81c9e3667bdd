import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { assertIssue, baseConfig, configIssues, parse } from './helpers.js';
import { configCatalog } from '../../src/extensions.js';

const catalog = configCatalog();

test('ringside settings default to the documented values', () => {
  const { ringside } = parse(baseConfig()).config;
  assert.equal(ringside.workers, 4);
  assert.equal(ringside.drain_timeout, 15_000);
  assert.equal(ringside.offload.threads, 1);
  assert.deepEqual(ringside.worker_heap, { max_young_generation_mb: 48 });
  assert.deepEqual(ringside.limits, {
    max_connections: 10_000,
    max_header_bytes: 65_536,
    max_headers: 100,
    max_body_bytes: 4 * 1024 * 1024,
    max_request_line_bytes: 8192,
    max_pending_requests: 1024,
    max_pipelined_requests: 16,
    request_header_timeout: 10_000,
    idle_timeout: 60_000,
    max_grpc_message_bytes: 4 * 1024 * 1024,
  });
  assert.equal(ringside.dapr.enabled, false);
  assert.equal(ringside.dapr.grpc_port, 50001);
  assert.equal(ringside.dapr.http_port, 3500);
  assert.equal(ringside.dapr.api_token, undefined);
  assert.equal(ringside.dapr.app_id, 'ringside');
  assert.equal(ringside.admin.address, '127.0.0.1:34901');
  assert.deepEqual(ringside.admin.endpoint, { kind: 'tcp', host: '127.0.0.1', port: 34901 });
  assert.equal(ringside.demo_upstream.enabled, false);
  assert.deepEqual(ringside.scheduler, { cross_worker: true, saturation_threshold: 0.85, backlog_threshold: 4 });
});

test('workers defaults to the available cores', () => {
  assert.equal(parseConfig(baseConfig(), 't', { env: {}, cores: 7, catalog }).config.ringside.workers, 7);
});

test('Dapr ports and token come from the environment when the config leaves them unset', () => {
  const { dapr } = parse(baseConfig(), { DAPR_GRPC_PORT: '50002', DAPR_HTTP_PORT: '3501', DAPR_API_TOKEN: 's3cret' }).config.ringside;
  assert.equal(dapr.grpc_port, 50002);
  assert.equal(dapr.http_port, 3501);
  assert.equal(dapr.api_token, 's3cret');
});

test('explicit Dapr settings win over the environment', () => {
  const cfg = { ...baseConfig(), ringside: { dapr: { enabled: true, grpc_port: 6000, api_token: 'cfg' } } };
  const { dapr } = parse(cfg, { DAPR_GRPC_PORT: 'garbage', DAPR_API_TOKEN: 'env' }).config.ringside;
  assert.equal(dapr.grpc_port, 6000);
  assert.equal(dapr.api_token, 'cfg');
});

test('a malformed DAPR_GRPC_PORT fails at the setting it feeds', () => {
  assertIssue(configIssues(() => parse(baseConfig(), { DAPR_GRPC_PORT: '5000x' })), 'ringside.dapr.grpc_port', /DAPR_GRPC_PORT="5000x" .* not a port number/);
});

test('ringside settings are validated with their paths', () => {
  const cfg = { ...baseConfig(), ringside: { workers: 0, offload: { threads: 1.5 }, scheduler: { saturation_threshold: 2, backlog_threshold: 0 }, admin: { address: '/tmp/admin.sock' } } };
  const issues = configIssues(() => parse(cfg));
  assertIssue(issues, 'ringside.workers', /≥ 1/);
  assertIssue(issues, 'ringside.offload.threads', /integer/);
  assertIssue(issues, 'ringside.scheduler.saturation_threshold', /\(0, 1\]/);
  assertIssue(issues, 'ringside.scheduler.backlog_threshold', /calls > 0/);
  assertIssue(issues, 'ringside.admin.address', /expected host:port/);
});

test('the worker heap limit is a whole number of MiB in range', () => {
  const issuesFor = (mb: unknown) => configIssues(() => parse({ ...baseConfig(), ringside: { worker_heap: { max_young_generation_mb: mb } } }));
  assertIssue(issuesFor(2), 'ringside.worker_heap.max_young_generation_mb', /at least 3 MiB/);
  assertIssue(issuesFor(24.5), 'ringside.worker_heap.max_young_generation_mb', /integer number of MiB/);
  assertIssue(issuesFor(4096), 'ringside.worker_heap.max_young_generation_mb', /at most 1024 MiB/);
  assert.equal(parse({ ...baseConfig(), ringside: { worker_heap: { max_young_generation_mb: 3 } } }).config.ringside.worker_heap.max_young_generation_mb, 3);
});

test('unknown ringside keys warn like any other', () => {
  const cfg = { ...baseConfig(), ringside: { limits: { max_body: 1 } } };
  assert.deepEqual(parse(cfg).warnings, ['ringside.limits.max_body: unknown key, ignored']);
});
