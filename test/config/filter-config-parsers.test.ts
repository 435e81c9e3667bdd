import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGrpcFilterConfig, parseProxyFilterConfig, parseTcpProxyFilterConfig } from '../../src/config/filters.js';
import { assertIssue, configIssues } from './helpers.js';

const at = 'servers[0].listeners[2].filter_chains[0].filters[0].config';

test('parse functions prefix issue paths with the filter config path', () => {
  assertIssue(configIssues(() => parseTcpProxyFilterConfig({ cluster: '' }, at)), `${at}.cluster`, /must not be empty/);
  assertIssue(configIssues(() => parseProxyFilterConfig({}, at)), `${at}.router_config_name`, /required/);
});

test('a tcp_proxy needs a cluster or routes', () => {
  assertIssue(configIssues(() => parseTcpProxyFilterConfig({}, at)), at, /needs a cluster or routes/);
});

test('tcp_proxy defaults and durations normalize', () => {
  const { config } = parseTcpProxyFilterConfig({ cluster: 'c', idle_timeout: '30s' }, at);
  assert.deepEqual(config, { cluster: 'c', routes: [], idle_timeout: 30_000, max_connect_attempts: 1 });
});

test('a proxy filter defaults to protocol detection downstream', () => {
  const { config } = parseProxyFilterConfig({ router_config_name: 'r' }, at);
  assert.equal(config.downstream_protocol, 'Auto');
  assert.equal(config.upstream_protocol, undefined);
});

test('the mosn invoker needs at least one channel', () => {
  assertIssue(
    configIssues(() => parseGrpcFilterConfig({ grpc_config: { rpcs: { mosn: { config: { channel: [] } } } } }, at)),
    `${at}.grpc_config.rpcs.mosn.config.channel`,
    /at least one channel/,
  );
});

test('a channel size must be a positive integer', () => {
  assertIssue(
    configIssues(() => parseGrpcFilterConfig({ grpc_config: { rpcs: { mosn: { config: { channel: [{ protocol: 'http', listener: 'x', size: 0 }] } } } } }, at)),
    `${at}.grpc_config.rpcs.mosn.config.channel[0].size`,
    /≥ 1/,
  );
});

test('invoker callbacks and channel ext keep their config; hellos warn as accepted without effect', () => {
  const { config, warnings } = parseGrpcFilterConfig(
    {
      server_name: 'runtime',
      grpc_config: {
        hellos: { helloworld: { type: 'helloworld', hello: 'greeting' } },
        rpcs: {
          mosn: {
            type: 'mosn',
            config: {
              before_invoke: [{ name: 'dubbo_json_rpc' }],
              after_invoke: [{ name: 'audit', config: { level: 2 } }],
              channel: [{ protocol: 'bolt', listener: 'egress_bolt', size: 2, ext: { class: 'x' } }, { protocol: 'http', listener: 'e', size: 1, ext: {} }],
            },
          },
        },
      },
    },
    at,
  );
  assert.deepEqual(warnings, [`${at}.grpc_config.hellos: ignored: SayHello answers with Ringside's own greeting, not a hello component's`]);
  assert.deepEqual(config.grpc_config.rpcs?.mosn.config.channel[0]!.ext, { class: 'x' });
  assert.deepEqual(config.grpc_config.rpcs?.mosn.config.after_invoke, [{ name: 'audit', config: { level: 2 } }]);
  assert.deepEqual(config.grpc_config.rpcs?.mosn.config.before_invoke, [{ name: 'dubbo_json_rpc', config: undefined }]);
});

test('an rpc invoker other than mosn is an error, not a warning', () => {
  assertIssue(configIssues(() => parseGrpcFilterConfig({ grpc_config: { rpcs: { other: {} } } }, at)), `${at}.grpc_config.rpcs.other`, /unknown rpc invoker \(known: mosn\)/);
});

test('a grpc config without rpcs is valid (hello-only, as Layotto config_uds.json)', () => {
  const { config } = parseGrpcFilterConfig({ server_name: 'runtime', grpc_config: { hellos: { h: { type: 'helloworld' } } } }, at);
  assert.equal(config.grpc_config.rpcs, undefined);
});
