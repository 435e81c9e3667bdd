/**
 * Layotto's runtime API reaching geerpc services through the `geerpc` channel: JSON arguments become
 * a gob call, the gob reply comes back as JSON. Callers are the Layotto gRPC client, the Dapr SDK
 * (gRPC) and Dapr's HTTP API; the service is the walk-through's Foo, directly and behind Ringside's
 * geerpc proxy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DaprClient, CommunicationProtocolEnum, HttpMethod, LogLevel } from '@dapr/dapr';
import { RuntimeHost } from '../../src/runtime/index.js';
import { client, httpCall, listenWithFilter, makeEnv } from './helpers.js';
import { fooServer } from '../geerpc/helpers.js';
import { startDataplane } from '../proxy/harness.js';

function channelConfig(listener: string): unknown {
  return { server_name: 'runtime', grpc_config: { rpcs: { mosn: { type: 'mosn', config: { channel: [{ protocol: 'geerpc', listener, size: 1 }] } } } } };
}

async function sidecar(listener: string) {
  const host = new RuntimeHost(makeEnv());
  const grpc = await listenWithFilter(host.grpcFilterFactory, channelConfig(listener));
  const dapr = await listenWithFilter(host.grpcFilterFactory, { server_name: 'runtime' }, 'dapr_grpc');
  const daprHttp = await listenWithFilter(host.daprHttpFilterFactory, { server_name: 'runtime' }, 'dapr_http');
  return {
    grpc,
    dapr,
    daprHttp,
    close: async () => {
      await host.close(100);
      await Promise.all([grpc.close(), dapr.close(), daprHttp.close()]);
    },
  };
}

const jsonCall = (id: string, method: string, data: unknown) => ({ id, message: { method, content_type: 'application/json', data: { value: Buffer.from(JSON.stringify(data)) } } });
const text = (res: { data?: { value?: Uint8Array } }): string => Buffer.from(res.data?.value ?? []).toString();

test('Layotto InvokeService(id="Foo", method="Sum", data={"Num1":1,"Num2":2}) calls Foo.Sum over gob and answers 3; many calls share one connection', async (t) => {
  const foo = fooServer('a');
  const l = await foo.listen('tcp@127.0.0.1:0');
  t.after(() => foo.close());
  const sc = await sidecar(l.addr.slice('tcp@'.length));
  t.after(sc.close);
  const c = client(sc.grpc.address);
  t.after(() => c.close());
  const res = await c.call('InvokeService', jsonCall('Foo', 'Sum', { Num1: 1, Num2: 2 }));
  assert.equal(text(res), '3');
  assert.equal(res.content_type, 'application/json');
  // Concurrent calls on the channel's one connection (size 1), each with its own Seq.
  const many = await Promise.all(Array.from({ length: 50 }, (_, i) => c.call('InvokeService', jsonCall('Foo', 'Sum', { Num1: i, Num2: 1 }))));
  assert.deepEqual(many.map(text), Array.from({ length: 50 }, (_, i) => String(i + 1)));
  assert.equal(text(await c.call('InvokeService', jsonCall('Foo', 'Who', {}))), '"a"');
  // The service's error, and arguments that cannot be a gob struct, fail the call with their reason.
  await assert.rejects(c.call('InvokeService', jsonCall('Foo', 'Fail', {})), /geerpc service error: foo failed on purpose/);
  await assert.rejects(c.call('InvokeService', jsonCall('Foo', 'Sum', { num1: 1 })), /not an exported Go name/);
  await assert.rejects(c.call('InvokeService', { id: 'Foo', message: { method: 'Sum', content_type: 'text/plain', data: { value: Buffer.from('x') } } }), /takes content type application\/json/);
});

test("Dapr's API (the SDK over gRPC, and HTTP) reaches Foo.Sum behind Ringside's geerpc proxy", async (t) => {
  const foo = fooServer('a');
  const l = await foo.listen('tcp@127.0.0.1:0');
  t.after(() => foo.close());
  const dp = await startDataplane({
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { headers: [{ name: 'service', value: 'Foo' }] }, route: { cluster_name: 'foo' } }] }] }],
        listeners: [{ name: 'gee', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'geerpc', router_config_name: 'r' } }] }] }],
      },
    ],
    cluster_manager: { clusters: [{ name: 'foo', type: 'SIMPLE', hosts: [{ address: l.addr.slice('tcp@'.length) }] }] },
  });
  t.after(() => dp.close());
  const sc = await sidecar(dp.addresses.get('gee')!);
  t.after(sc.close);
  const dapr = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(sc.dapr.port), communicationProtocol: CommunicationProtocolEnum.GRPC, logger: { level: LogLevel.Error } });
  t.after(() => dapr.stop());
  assert.equal(await dapr.invoker.invoke('Foo', 'Sum', HttpMethod.POST, { Num1: 20, Num2: 22 }), 42);
  const http = await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/Foo/method/Sum', { headers: { 'content-type': 'application/json' }, body: '{"Num1":3,"Num2":4}' });
  assert.equal(http.status, 200);
  assert.equal(http.body, '7');
  // No route at the proxy: the sidecar's own error, with its code.
  const c = client(sc.grpc.address);
  t.after(() => c.close());
  await assert.rejects(c.call('InvokeService', jsonCall('Bar', 'Sum', { Num1: 1 })), (err: { code?: number; details?: string }) => {
    assert.match(String(err.details), /no route/);
    return true;
  });
});
