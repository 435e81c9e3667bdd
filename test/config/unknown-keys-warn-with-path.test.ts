import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGrpcFilterConfig } from '../../src/config/filters.js';
import { baseConfig, parse } from './helpers.js';

test('unknown keys anywhere warn with their path and do not fail the load', () => {
  const cfg = baseConfig();
  Object.assign(cfg, { colour: 'blue' });
  Object.assign(cfg.servers[0]!.listeners[1]!, { adress: 'typo' });
  Object.assign(cfg.servers[0]!.routers[0]!.virtual_hosts[0]!.routers[0]!.match, { prefx: '/' });
  Object.assign(cfg.cluster_manager.clusters[0]!.hosts[0]!, { wieght: 3 });
  const { warnings, config } = parse(cfg);
  // zod reports an object's unknown keys after its children, so compare without order.
  assert.deepEqual([...warnings].sort(), [
    'colour: unknown key, ignored',
    'servers[0].listeners[1].adress: unknown key, ignored',
    'servers[0].routers[0].virtual_hosts[0].routers[0].match.prefx: unknown key, ignored',
    'cluster_manager.clusters[0].hosts[0].wieght: unknown key, ignored',
  ].sort());
  assert.equal('colour' in config, false);
});

test('unknown keys inside a known filter config warn with the full path', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.listeners[0]!.filter_chains[0]!.filters[0]!.config, { routr_config_name: 'x' });
  assert.deepEqual(parse(cfg).warnings, ['servers[0].listeners[0].filter_chains[0].filters[0].config.routr_config_name: unknown key, ignored']);
});

test('MOSN sections Ringside does not act on are accepted and ignored with a reason; an incomplete xDS bootstrap is an error', () => {
  assert.throws(() => parse({ ...baseConfig(), dynamic_resources: { ads_config: {} } }), /dynamic_resources\.ads_config\.grpc_services: required/);
  const cfg = { ...baseConfig(), admin: { address: {} }, tracing: { enable: true } };
  const { warnings } = parse(cfg);
  assert.deepEqual(warnings, [
    "admin: ignored: Ringside's admin API listens on ringside.admin.address",
    'tracing: ignored: Ringside exports no traces; the key is accepted and has no effect',
  ]);
});

test("an empty cluster_manager.tls_context stays quiet; a set one warns that TLS is configured per cluster", () => {
  const quiet = { ...baseConfig(), cluster_manager: { ...baseConfig().cluster_manager, tls_context: {} } };
  assert.deepEqual(parse(quiet).warnings, []);
  const loud = { ...baseConfig(), cluster_manager: { ...baseConfig().cluster_manager, tls_context: { status: true } } };
  assert.deepEqual(parse(loud).warnings, ['cluster_manager.tls_context: ignored: set tls_context on each cluster']);
  // On a cluster it is acted on (TLS toward its hosts), so it loads without a warning.
  const real = baseConfig();
  Object.assign(real.cluster_manager.clusters[0]!, { tls_context: { status: true } });
  assert.deepEqual(parse(real).warnings, []);
});

test('an unknown key inside a registered filter config warns with its path', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.listeners[1]!.filter_chains[0]!.filters[0]!.config, { clutser: 'x' });
  assert.deepEqual(parse(cfg).warnings, ['servers[0].listeners[1].filter_chains[0].filters[0].config.clutser: unknown key, ignored']);
});

test("Layotto grpc_config components Ringside does not serve warn as ignored", () => {
  const { warnings } = parseGrpcFilterConfig(
    { server_name: 'runtime', grpc_config: { hellos: { quick_start_demo: { type: 'helloworld', hello: 'greeting' } }, state: { s: { type: 'in-memory' } } } },
    'servers[0].listeners[0].filter_chains[0].filters[0].config',
  );
  assert.deepEqual(warnings, [
    "servers[0].listeners[0].filter_chains[0].filters[0].config.grpc_config.hellos: ignored: SayHello answers with Ringside's own greeting, not a hello component's",
    'servers[0].listeners[0].filter_chains[0].filters[0].config.grpc_config.state: ignored: Ringside serves only the RPC (InvokeService) and hello APIs',
  ]);
});

test("channel entries after the first warn with their path (Layotto's invoker calls channel[0] only) and are still validated", () => {
  const grpcListener = (channel: unknown[]) => ({
    name: 'runtime',
    address: '127.0.0.1:0',
    filter_chains: [{ filters: [{ type: 'grpc', config: { server_name: 'runtime', grpc_config: { rpcs: { mosn: { config: { channel } } } } } }] }],
  });
  const base = 'servers[0].listeners[2].filter_chains[0].filters[0].config.grpc_config.rpcs.mosn.config.channel';
  const two = baseConfig();
  two.servers[0]!.listeners.push(grpcListener([{ protocol: 'http', listener: 'l1', size: 1 }, { protocol: 'http', listener: 'l2', size: 4 }]) as never);
  assert.deepEqual(parse(two).warnings, [`${base}[1]: ignored: the mosn invoker sends every call on channel[0], as Layotto's does`]);
  const bad = baseConfig();
  bad.servers[0]!.listeners.push(grpcListener([{ protocol: 'http', listener: 'l1', size: 1 }, { protocol: 'http', listener: 'nowhere', size: 1 }]) as never);
  assert.throws(() => parse(bad), /channel\[1\]\.listener: no listener named "nowhere"/);
});
