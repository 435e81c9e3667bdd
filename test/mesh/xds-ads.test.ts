/**
 * xDS over ADS against a control plane written here (ads-server.ts). First @grpc/grpc-js-xds, an
 * independent xDS client, resolves a gRPC call through it (so the server speaks real xDS); then a real
 * `ringside start` with an Envoy-shaped bootstrap builds its listener, routes and clusters from LDS /
 * RDS / CDS / EDS, ACKs with version and nonce, NACKs bad resources naming the field while the last
 * good config serves, follows EDS on held keep-alive connections, drops a removed listener, and keeps
 * serving while the control plane is gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AdsServer } from './ads-server.js';
import { startChild, tryConnect } from '../supervisor/helpers.js';
import { sample } from '../observability/helpers.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const T = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
};
const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';

const sa = (address: string) => {
  const i = address.lastIndexOf(':');
  return { socket_address: { address: address.slice(0, i), port_value: Number(address.slice(i + 1)) } };
};

function cla(ads: AdsServer, name: string, hosts: string[]) {
  return { name, any: ads.any('envoy.config.endpoint.v3.ClusterLoadAssignment', { cluster_name: name, endpoints: [{ locality: { region: 'r1' }, load_balancing_weight: { value: 1 }, lb_endpoints: hosts.map((h) => ({ endpoint: { address: sa(h) } })) }] }) };
}
function edsCluster(ads: AdsServer, name: string) {
  return { name, any: ads.any('envoy.config.cluster.v3.Cluster', { name, type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } }, connect_timeout: { seconds: 1 } }) };
}
function hcm(ads: AdsServer, route: Record<string, unknown>) {
  return ads.any(HCM, { stat_prefix: 'in', codec_type: 'HTTP1', ...route, http_filters: [{ name: 'envoy.filters.http.router', typed_config: ads.any(ROUTER, {}) }] });
}
function routes(ads: AdsServer, name: string, cluster: string) {
  return {
    name,
    any: ads.any('envoy.config.route.v3.RouteConfiguration', {
      name,
      virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster, timeout: { seconds: 5 } } }] }],
    }),
  };
}

test('the test control plane serves @grpc/grpc-js-xds (an independent xDS client) a working route', async (t) => {
  const ads = new AdsServer();
  await ads.start();
  const echo = new grpc.Server();
  const svc = {
    Say: {
      path: '/test.Echo/Say',
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  };
  echo.addService(svc, { Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.concat([Buffer.from('echo:'), call.request])) });
  const port = await new Promise<number>((resolve, reject) => echo.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  t.after(() => {
    echo.forceShutdown();
    ads.stop();
  });
  const node = 'grpc-client';
  ads.push(node, T.listener, '1', [
    { name: 'echo', any: ads.any('envoy.config.listener.v3.Listener', { name: 'echo', api_listener: { api_listener: hcm(ads, { rds: { route_config_name: 'echo-routes', config_source: { ads: {} } } }) } }) },
  ]);
  ads.push(node, T.route, '1', [routes(ads, 'echo-routes', 'echo-cluster')]);
  ads.push(node, T.cluster, '1', [edsCluster(ads, 'echo-cluster')]);
  ads.push(node, T.endpoint, '1', [cla(ads, 'echo-cluster', [`127.0.0.1:${port}`])]);
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [{ server_uri: ads.address, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: node, locality: {} },
  });
  const xds = await import('@grpc/grpc-js-xds');
  xds.register();
  const Client = grpc.makeGenericClientConstructor(svc, 'Echo');
  const client = new Client('xds:///echo', grpc.credentials.createInsecure()) as unknown as {
    Say(req: Buffer, opts: grpc.CallOptions, cb: (e: Error | null, r?: Buffer) => void): void;
    close(): void;
  };
  t.after(() => client.close());
  const reply = await new Promise<Buffer>((resolve, reject) =>
    client.Say(Buffer.from('hi'), { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r!))),
  );
  assert.equal(reply.toString(), 'echo:hi');
  // grpc-js-xds ACKed every type with the version and the nonce it got.
  for (const type of Object.values(T)) await ads.waitFor((r) => r.node === node && r.type === type && r.version === '1' && r.nonce !== '' && r.error === undefined);
});

async function upstream(name: string): Promise<{ server: Server; address: string }> {
  const server = createServer((req, res) => {
    req.resume();
    res.end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function call(agent: Agent | false, address: string): Promise<{ status: number; body: string; reused: boolean }> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = request({ host: address.slice(0, i), port: Number(address.slice(i + 1)), path: '/', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('ringside runs from ADS: LDS/RDS/CDS/EDS applied, ACK and NACK, EDS on held connections, removal, control plane down', async (t) => {
  const ads = new AdsServer();
  await ads.start();
  const a = await upstream('A');
  const b = await upstream('B');
  const node = 'ringside-test';
  const listener = (name: string, filter: Record<string, unknown>) => ({
    name,
    any: ads.any('envoy.config.listener.v3.Listener', { name, address: sa('127.0.0.1:0'), filter_chains: [{ filters: [filter] }] }),
  });
  const ingress = listener('ingress', { name: 'hcm', typed_config: hcm(ads, { rds: { route_config_name: 'routes', config_source: { ads: {} } } }) });
  ads.push(node, T.cluster, 'c1', [edsCluster(ads, 'backend')]);
  ads.push(node, T.endpoint, 'e1', [cla(ads, 'backend', [a.address])]);
  ads.push(node, T.listener, 'l1', [ingress]);
  ads.push(node, T.route, 'r1', [routes(ads, 'routes', 'backend')]);

  const file = join(mkdtempSync(join(tmpdir(), 'ringside-xds-')), 'bootstrap.json');
  writeFileSync(
    file,
    JSON.stringify({
      node: { id: node, cluster: 'test' },
      dynamic_resources: {
        ads_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] },
        lds_config: { ads: {} },
        cds_config: { ads: {} },
      },
      static_resources: {
        clusters: [{ name: 'xds', type: 'STATIC', connect_timeout: '1s', load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: sa(ads.address) } }] }] } }],
      },
      servers: [{}],
      ringside: { admin: { address: '127.0.0.1:0' }, drain_timeout: 500, dapr: { enabled: false } },
    }),
  );
  const child = startChild(main, ['start', '-c', file, '--workers', '2']);
  const held = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(async () => {
    held.destroy();
    child.kill();
    await child.exited;
    ads.stop();
    a.server.close();
    b.server.close();
  });
  await child.waitStdout(/^ringside ready:/, 20_000);
  const admin = /admin listening on ([^\s"]+)/.exec(child.stderr())![1]!;
  const stats = async () => (await (await fetch(`http://${admin}/stats`)).json()) as { config: { version: number }; workers: { listeners: { name: string; address: string }[] }[]; xds: { connected: boolean } };
  const addressOf = async (name: string, timeoutMs = 10_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await stats();
      const all = s.workers.map((w) => w.listeners.find((l) => l.name === name)?.address);
      if (all.every((x) => x !== undefined)) return all[0]!;
      assert.ok(Date.now() < deadline, `listener ${name} not on every worker: ${JSON.stringify(s.workers)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const edge = await addressOf('ingress');
  assert.equal((await call(held, edge)).body, 'A');
  // ACKs: every type with its version and the nonce of the response; RDS and EDS subscribed by name.
  await ads.waitFor((r) => r.node === node && r.type === T.route && r.version === 'r1' && r.nonce !== '' && r.error === undefined && r.names.join() === 'routes');
  await ads.waitFor((r) => r.type === T.endpoint && r.version === 'e1' && r.error === undefined && r.names.join() === 'backend');
  await ads.waitFor((r) => r.type === T.listener && r.version === 'l1' && r.error === undefined);
  await ads.waitFor((r) => r.type === T.cluster && r.version === 'c1' && r.error === undefined);

  // EDS: the held connection reaches the new host without reconnecting.
  ads.push(node, T.endpoint, 'e2', [cla(ads, 'backend', [b.address])]);
  await ads.waitFor((r) => r.type === T.endpoint && r.version === 'e2' && r.error === undefined);
  const afterEds = await call(held, edge);
  assert.deepEqual([afterEds.body, afterEds.reused], ['B', true]);

  // A route to a cluster nobody defined: NACK naming the resource and field; the last good config serves.
  const badNonce = ads.push(node, T.route, 'r2', [routes(ads, 'routes', 'missing')]);
  const nack = await ads.waitFor((r) => r.type === T.route && r.nonce === badNonce);
  assert.equal(nack.version, 'r1', 'a NACK carries the version last accepted');
  assert.match(nack.error ?? '', /missing/);
  assert.match(nack.error ?? '', /RouteConfiguration "routes"/);
  assert.equal((await call(held, edge)).body, 'B');

  // A listener with a network filter Ringside does not run: NACK names the field.
  const odd = listener('odd', { name: 'x', typed_config: ads.any(ROUTER, {}) });
  const oddNonce = ads.push(node, T.listener, 'l2', [ingress, odd]);
  const nack2 = await ads.waitFor((r) => r.type === T.listener && r.nonce === oddNonce);
  assert.equal(nack2.version, 'l1');
  assert.match(nack2.error ?? '', /Listener "odd": filter_chains\[0\]\.filters\[0\]\.typed_config: network filter .* is not supported/);

  // A new tcp_proxy listener binds on every worker; dropping it from LDS removes it.
  const tcp = listener('tcp', { name: 'tcp', typed_config: ads.any('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', { stat_prefix: 't', cluster: 'backend' }) });
  ads.push(node, T.listener, 'l3', [ingress, tcp]);
  const tcpAddr = await addressOf('tcp');
  assert.equal((await call(false, tcpAddr)).body, 'B', 'tcp_proxy forwards to the EDS host');
  ads.push(node, T.listener, 'l4', [ingress]);
  await ads.waitFor((r) => r.type === T.listener && r.version === 'l4' && r.error === undefined);
  assert.equal(await tryConnect(tcpAddr), 'ECONNREFUSED');
  assert.equal((await call(held, edge)).body, 'B');

  const m = await (await fetch(`http://${admin}/metrics`)).text();
  assert.equal(sample(m, 'ringside_xds_stream_connected'), 1);
  assert.equal(sample(m, 'ringside_xds_updates_total{type="RouteConfiguration",result="rejected"}'), 1);
  assert.equal(sample(m, 'ringside_xds_updates_total{type="Listener",result="accepted"}'), 3);
  assert.equal(sample(m, 'ringside_xds_version_info{type="ClusterLoadAssignment",version="e2"}'), 1);

  // The control plane goes away: the stream is down, the last good config keeps serving.
  ads.stop();
  const deadline = Date.now() + 10_000;
  while ((await stats()).xds.connected) {
    assert.ok(Date.now() < deadline, 'the stream is seen as down');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await call(held, edge)).body, 'B');
  assert.equal((await call(false, edge)).body, 'B');
});
