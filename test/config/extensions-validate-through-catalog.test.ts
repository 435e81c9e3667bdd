/**
 * Every extension a config names is checked on the main thread against what the build registers,
 * with the spec registered next to its factory: values that used to pass the loader and then kill a
 * worker are config errors with their JSON path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertIssue, baseConfig, configIssues, parse } from './helpers.js';

const chain = 'servers[0].listeners[0].filter_chains[0].filters';

test('an unknown network filter type is an error at its type, listing the known ones', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0] = { type: 'proxyy', config: {} } as never;
  assertIssue(configIssues(() => parse(cfg)), `${chain}[0].type`, /unknown network filter "proxyy" \(known: tcp_proxy, proxy, grpc, dapr_http, drpc\)/);
});

test('a misspelt stream filter type is an error; a stream filter config is checked by its registered spec', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.listeners[0]!, { stream_filters: [{ type: 'faultt' }, { type: 'fault', config: { abort: { status: 99 } } }] });
  const issues = configIssues(() => parse(cfg));
  assertIssue(issues, 'servers[0].listeners[0].stream_filters[0].type', /unknown stream filter "faultt" \(known: fault, header_mutation, compressor, decompressor\)/);
  assertIssue(issues, 'servers[0].listeners[0].stream_filters[1].config.abort.status', /./);
});

test('any listener_filters entry is an error while none are registered', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.listeners[0]!, { listener_filters: [{ type: 'original_dst' }] });
  assertIssue(configIssues(() => parse(cfg)), 'servers[0].listeners[0].listener_filters[0].type', /unknown listener filter "original_dst" \(none defined\)/);
});

test('an unregistered load balancer or cluster type is an error at load', () => {
  const cfg = baseConfig();
  Object.assign(cfg.cluster_manager.clusters[0]!, { lb_type: 'LB_PEAK_EWMA', type: 'EDS' });
  const issues = configIssues(() => parse(cfg));
  assertIssue(issues, 'cluster_manager.clusters[0].lb_type', /unknown load balancer "LB_PEAK_EWMA"/);
  assertIssue(issues, 'cluster_manager.clusters[0].type', /unknown cluster type "EDS"/);
});

test('a channel protocol without a channel implementation, and an unknown callback, are errors', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0] = {
    type: 'grpc',
    config: { grpc_config: { rpcs: { mosn: { config: { before_invoke: [{ name: 'nope' }], channel: [{ protocol: 'thrift', listener: 'l2', size: 1 }] } } } } },
  } as never;
  const issues = configIssues(() => parse(cfg));
  const base = `${chain}[0].config.grpc_config.rpcs.mosn.config`;
  assertIssue(issues, `${base}.channel[0].protocol`, /no channel protocol "thrift" in this build \(known: http, /);
  assertIssue(issues, `${base}.before_invoke[0].name`, /no before_invoke callback "nope" \(known: dubbo_json_rpc\)/);
});

test('a channel naming a listener the config does not define is an error', () => {
  const cfg = baseConfig();
  cfg.servers[0]!.listeners[0]!.filter_chains[0]!.filters.push({
    type: 'grpc',
    config: { grpc_config: { rpcs: { mosn: { config: { channel: [{ protocol: 'http', listener: 'egress_missing', size: 4 }] } } } } },
  } as never);
  assertIssue(
    configIssues(() => parse(cfg)),
    `${chain}[1].config.grpc_config.rpcs.mosn.config.channel[0].listener`,
    /no listener named "egress_missing" \(known: l1, l2\)/,
  );
});

test('proxy protocols must have a codec and an upstream client', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0]!.config, { downstream_protocol: 'thrift' });
  assertIssue(configIssues(() => parse(cfg)), `${chain}[0].config.downstream_protocol`, /no codec serves "thrift" \(known: Http1, Http2, bolt, boltv2, dubbo, drpc, geerpc, Auto\)/);
  const up = baseConfig();
  Object.assign(up.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0]!.config, { upstream_protocol: 'Http3' });
  assertIssue(configIssues(() => parse(up)), `${chain}[0].config.upstream_protocol`, /no upstream client speaks "Http3" \(known: Http1, Http2, bolt, boltv2, dubbo, drpc, geerpc\)/);
});

test('a listener host that is not an IPv4 address or a host name fails at load, not in DNS later', () => {
  for (const [address, why] of [
    ['999.1.1.1:80', /"999\.1\.1\.1" is not an IPv4 address/],
    ['1.2.3:80', /"1\.2\.3" is not an IPv4 address/],
    ['bad_host-.example:80', /is not a host name/],
    ['[::zz]:80', /is not an IPv6 address/],
  ] as const) {
    const cfg = baseConfig();
    cfg.servers[0]!.listeners[0]!.address = address;
    assertIssue(configIssues(() => parse(cfg)), 'servers[0].listeners[0].address', why);
  }
  const ok = baseConfig();
  ok.servers[0]!.listeners[0]!.address = 'localhost:0';
  assert.equal(parse(ok).config.servers[0]!.listeners[0]!.endpoint.kind, 'tcp');
});

test('tcp_proxy CIDR routes load, in both spellings, and bad ones name their path', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.listeners[1]!.filter_chains[0]!.filters[0]!.config, {
    idle_timeout: '1m30s',
    routes: [{ cluster: 'c1', source_addrs: ['10.0.0.0/8', { address: '::1', length: 128 }], destination_port: '80-90' }],
  });
  assert.deepEqual(parse(cfg).warnings, []);
  const bad = baseConfig();
  Object.assign(bad.servers[0]!.listeners[1]!.filter_chains[0]!.filters[0]!.config, { routes: [{ cluster: 'c1', source_addrs: ['10.0.0.0/33'] }] });
  assertIssue(configIssues(() => parse(bad)), 'servers[0].listeners[1].filter_chains[0].filters[0].config.routes[0].source_addrs[0]', /prefix length must be an integer 0-32, got 33/);
});
