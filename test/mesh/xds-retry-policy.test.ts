/**
 * An RDS route's Envoy retry_policy becomes Ringside's route retry_policy: the gRPC conditions
 * (cancelled, deadline-exceeded, internal, resource-exhausted, unavailable) and the HTTP ones pass as
 * Ringside's condition list, refused-stream and retriable-status-codes map to the broader condition
 * that covers them (warned), what Ringside cannot retry is warned, and the result loads and compiles to
 * the gRPC codes the proxy retries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envoyProtos } from '../../src/xds/protos.js';
import { convertRouteConfiguration } from '../../src/xds/convert.js';
import { compileRetryPolicy } from '../../src/router/route.js';
import { parse } from '../config/helpers.js';

async function convertedRoutes(routes: Record<string, unknown>[]) {
  const protos = await envoyProtos();
  const t = protos.root.lookupType('envoy.config.route.v3.RouteConfiguration');
  const msg = protos.unpack({
    type_url: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
    value: t.encode(t.fromObject({ name: 'rc', virtual_hosts: [{ name: 'all', domains: ['*'], routes }] })).finish(),
  });
  return convertRouteConfiguration(msg);
}

const route = (retry_policy: Record<string, unknown>) => ({ match: { prefix: '/' }, route: { cluster: 'backend', retry_policy } });

test("Envoy's gRPC retry_on conditions and retriable-status-codes map onto the route retry_policy", async () => {
  const c = await convertedRoutes([
    route({ retry_on: 'cancelled,deadline-exceeded,internal,resource-exhausted,unavailable,connect-failure', num_retries: { value: 3 }, per_try_timeout: { nanos: 250_000_000 } }),
    route({ retry_on: 'refused-stream,retriable-status-codes', retriable_status_codes: [503, 504, 409] }),
    route({ retry_on: 'retriable-status-codes,retriable-4xx', retriable_status_codes: [500, 503], retry_back_off: { base_interval: { nanos: 10_000_000 } } }),
    route({ retry_on: 'envoy-ratelimited' }),
  ]);
  const policies = ((c.value['virtual_hosts'] as { routers: { route: { retry_policy: Record<string, unknown> } }[] }[])[0]!.routers).map((r) => r.route.retry_policy);
  assert.deepEqual(policies, [
    { retry_on: 'cancelled,deadline-exceeded,internal,resource-exhausted,unavailable,connect-failure', num_retries: 3, retry_timeout: 250 },
    { retry_on: 'reset,gateway-error', num_retries: 1 },
    { retry_on: '5xx', num_retries: 1 },
    { retry_on: false, num_retries: 1 },
  ]);
  const at = (i: number) => `virtual_hosts[0].routes[${i}].route.retry_policy`;
  for (const w of [
    `${at(1)}.retry_on: refused-stream retried as Ringside's reset`,
    `${at(1)}.retriable_status_codes: 409 not retried by Ringside`,
    `${at(1)}.retriable_status_codes: 503, 504 retried as Ringside's gateway-error`,
    `${at(2)}.retry_back_off: not acted on by Ringside`,
    `${at(2)}.retriable_status_codes: 500, 503 retried as Ringside's 5xx`,
    `${at(2)}.retry_on: retriable-4xx not retried by Ringside`,
    `${at(3)}.retry_on: envoy-ratelimited not retried by Ringside`,
  ]) {
    assert.ok(c.warnings.some((x) => x.startsWith(w)), `warned: ${w}\n got: ${c.warnings.join('\n')}`);
  }

  // The converted router loads like a file's, and compiles to the gRPC codes the proxy retries.
  const { config } = parse({
    servers: [{ routers: [{ router_config_name: 'rc', ...c.value }], listeners: [{ name: 'l', address: '127.0.0.1:0', filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http2', router_config_name: 'rc' } }] }] }] }],
    cluster_manager: { clusters: [{ name: 'backend', hosts: [{ address: '127.0.0.1:9' }] }] },
  });
  const loaded = config.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!.route!.retry_policy!;
  const compiled = compileRetryPolicy(loaded, 'rp');
  assert.deepEqual([...compiled.grpcCodes].sort((a, b) => a - b), [1, 4, 8, 13, 14]);
  assert.equal(compiled.onConnectFailure, true);
  assert.equal(compiled.on5xx, false, 'no HTTP status condition was asked for');
  assert.equal(compiled.numRetries, 3);
});
