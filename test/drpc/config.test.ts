/**
 * The dRPC listener's config: `drpc:/path` addresses, the `drpc` filter's keys validated on the main
 * thread with their JSON paths, and the filter refused anywhere but on a drpc: listener.
 */
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
  assert.throws(() => build('drpc:/tmp/y.sock', 'tcp_proxy'), /a drpc: listener takes exactly one filter, "drpc" \(got tcp_proxy\)/);
});
