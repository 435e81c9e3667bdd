/**
 * Layotto's `dubbo` channel end to end through one `ringside start`: the Layotto gRPC client and the
 * Dapr SDK → InvokeService → the dubbo channel → Ringside's dubbo proxy listener (in process) → the
 * router (matching the `service` header the dubbo codec decodes) → a sofa-rpc-node dubbo server,
 * with JSON arguments; an unknown service is the proxy's own dubbo error, not a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { CommunicationProtocolEnum, DaprClient, HttpMethod, LogLevel } from '@dapr/dapr';
import { startChild } from '../supervisor/helpers.js';
import { LAYOTTO_SERVICE, serviceDefinition } from '../../src/runtime/proto.js';
import { startDubboServer } from './sofa-dubbo.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const CALC = 'com.example.Calc:1.0.0';

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

type Unary = (r: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { data?: { value?: Uint8Array } }) => void) => void;

function invokeJson(client: grpc.Client, id: string, method: string, args: unknown): Promise<string> {
  const message = { method, content_type: 'application/json', data: { value: Buffer.from(JSON.stringify(args)) } };
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, Unary>)['InvokeService']!.call(client, { id, message }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, res) => {
      if (err) reject(err);
      else resolve(Buffer.from(res?.data?.value ?? []).toString());
    });
  });
}

test('dubbo channel → Ringside dubbo proxy → sofa-rpc-node dubbo server: Layotto gRPC and the Dapr SDK with JSON arguments', async (t) => {
  const server = await startDubboServer();
  t.after(() => server.close());
  const [daprGrpc, daprHttp] = [await freePort(), await freePort()];
  const cfg = {
    servers: [
      {
        routers: [
          {
            router_config_name: 'dubbo',
            virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { headers: [{ name: 'service', value: 'com.example.Calc' }] }, route: { cluster_name: 'calc' } }] }],
          },
        ],
        listeners: [
          {
            name: 'runtime',
            address: '127.0.0.1:0',
            bind_port: true,
            filter_chains: [{ filters: [{ type: 'grpc', config: { server_name: 'runtime', grpc_config: { rpcs: { mosn: { config: { channel: [{ protocol: 'dubbo', listener: 'dubbo_egress', size: 2 }] } } } } } }] }],
          },
          { name: 'dubbo_egress', address: 'dubbo_egress', filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'dubbo', router_config_name: 'dubbo' } }] }] },
        ],
      },
    ],
    cluster_manager: { clusters: [{ name: 'calc', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: server.address }] }] },
    ringside: { admin: { enabled: false }, drain_timeout: 1000, dapr: { enabled: true, grpc_port: daprGrpc, http_port: daprHttp } },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-dubbo-channel-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(cfg));
  const child = startChild(main, ['start', '-c', file, '--workers', '1']);
  t.after(() => child.kill());
  const ready = await child.waitStdout(/^ringside ready:/, 20_000);
  const runtime = /runtime@([^,\s]+)/.exec(ready)![1]!;

  const Runtime = grpc.makeGenericClientConstructor(serviceDefinition(LAYOTTO_SERVICE), 'Runtime');
  const client = new Runtime(runtime, grpc.credentials.createInsecure());
  t.after(() => client.close());
  assert.equal(await invokeJson(client, CALC, 'plus', [1, 2]), '3');
  const sums = await Promise.all(Array.from({ length: 50 }, (_, i) => invokeJson(client, CALC, 'plus', [i, 1000])));
  assert.deepEqual(sums, Array.from({ length: 50 }, (_, i) => String(i + 1000)));
  // The calls went through the proxy to the server (counted there), not around it.
  assert.ok((server.calls.get('plus') ?? 0) >= 51, `server saw ${server.calls.get('plus')} plus calls`);
  // No route for this service: the proxy answers in dubbo's own form, which the channel maps to a gRPC error.
  await assert.rejects(invokeJson(client, 'com.example.Nope:1.0.0', 'plus', [1, 2]), (e: grpc.ServiceError) => e.code !== grpc.status.OK && e.code !== grpc.status.DEADLINE_EXCEEDED);

  const dapr = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(daprGrpc), communicationProtocol: CommunicationProtocolEnum.GRPC, logger: { level: LogLevel.Error } });
  try {
    assert.equal(await dapr.invoker.invoke(CALC, 'plus', HttpMethod.POST, [20, 22]), 42);
  } finally {
    await dapr.stop();
  }
});
