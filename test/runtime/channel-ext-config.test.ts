/** Each channel protocol's `ext` is validated at load with its JSON path (Layotto's shape). */
import { test } from 'node:test';
import { assertIssue, baseConfig, configIssues, parse } from '../config/helpers.js';

const at = 'servers[0].listeners[0].filter_chains[0].filters[0].config.grpc_config.rpcs.mosn.config.channel[0]';

function withChannel(channel: Record<string, unknown>) {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0] = {
    type: 'grpc',
    config: { server_name: 'runtime', grpc_config: { rpcs: { mosn: { config: { channel: [{ listener: 'l1', size: 1, ...channel }] } } } } },
  } as never;
  return cfg;
}

test('an unknown ext key, a bad json_offload_min_bytes and ext on the http channel are errors at their path', () => {
  assertIssue(configIssues(() => parse(withChannel({ protocol: 'dubbo', ext: { serialization: 'kryo' } }))), `${at}.ext.serialization`, /not an option of the dubbo channel/);
  assertIssue(configIssues(() => parse(withChannel({ protocol: 'dubbo', ext: { json_offload_min_bytes: -1 } }))), `${at}.ext.json_offload_min_bytes`, /must be ≥ 0/);
  assertIssue(configIssues(() => parse(withChannel({ protocol: 'http', ext: { class: 'x' } }))), `${at}.ext.class`, /not an option of the http channel/);
});

test('a valid dubbo channel ext loads', () => {
  parse(withChannel({ protocol: 'dubbo', ext: { json_offload_min_bytes: 4096 } }));
  parse(withChannel({ protocol: 'dubbo' }));
});

test('bolt and boltv2 channels need ext.class (Layotto: "bolt need class"), named at its path', () => {
  for (const protocol of ['bolt', 'boltv2']) {
    assertIssue(configIssues(() => parse(withChannel({ protocol }))), `${at}.ext.class`, /bolt needs ext\.class/);
    assertIssue(configIssues(() => parse(withChannel({ protocol, ext: { class: 'x', codec: 'pb' } }))), `${at}.ext.codec`, /not an option of the boltv?2? channel/);
    parse(withChannel({ protocol, ext: { class: 'com.alipay.sofa.rpc.core.request.SofaRequest', json_offload_min_bytes: 1024 } }));
  }
});
