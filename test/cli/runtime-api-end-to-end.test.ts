/**
 * The walk-through's call through a real `ringside start` with 2 workers: a grpc-js client built from
 * Layotto's proto and the official Dapr SDK (gRPC and HTTP) all reach the built-in demo upstream
 * through the invoker, a RingPipe into the in-process egress listener and the proxy.
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
import { defaultConfigJson } from '../../src/config/default.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const SERVICE = 'org.apache.dubbo.samples.UserProvider';
const CALL = '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}';
const ANSWER = { jsonrpc: '2.0', id: 9527, result: { id: '113', name: 'Moorse', age: 30, time: 703394193, sex: 'MAN' } };

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The embedded default config with every fixed port moved to a free one. */
async function configFile(): Promise<{ file: string; grpcPort: number; daprGrpc: number; daprHttp: number }> {
  const [grpcPort, daprGrpc, daprHttp, demo] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const cfg = JSON.parse(JSON.stringify(defaultConfigJson)) as {
    servers: { listeners: { name: string; address: string }[] }[];
    cluster_manager: { clusters: { hosts: { address: string }[] }[] };
    ringside: Record<string, unknown>;
  };
  cfg.servers[0]!.listeners.find((l) => l.name === 'grpc')!.address = `127.0.0.1:${grpcPort}`;
  cfg.cluster_manager.clusters[0]!.hosts[0]!.address = `127.0.0.1:${demo}`;
  cfg.ringside = {
    ...cfg.ringside,
    admin: { address: '127.0.0.1:0' },
    demo_upstream: { enabled: true, address: `127.0.0.1:${demo}` },
    dapr: { enabled: true, grpc_port: daprGrpc, http_port: daprHttp },
    drain_timeout: 2000,
  };
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-e2e-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(cfg));
  return { file, grpcPort, daprGrpc, daprHttp };
}

function invokeLayotto(address: string): Promise<string> {
  const Runtime = grpc.makeGenericClientConstructor(serviceDefinition(LAYOTTO_SERVICE), 'Runtime');
  const client = new Runtime(address, grpc.credentials.createInsecure());
  const request = { id: SERVICE, message: { method: 'GetUser', data: { value: Buffer.from(CALL) }, http_extension: { verb: 3 } } };
  type Unary = (r: object, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { data: { value: Uint8Array } }) => void) => void;
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, Unary>)['InvokeService']!.call(client, request, { deadline: Date.now() + 5000 }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(Buffer.from(res!.data.value).toString());
    });
  });
}

test('Layotto grpc-js client and the Dapr SDK (gRPC and HTTP) get the demo answer through ringside start', async (t) => {
  const { file, grpcPort, daprGrpc, daprHttp } = await configFile();
  const child = startChild(main, ['start', '-c', file, '--workers', '2']);
  t.after(() => child.kill());
  await child.waitStdout(/^ringside ready:/, 20_000);

  // Several calls, so both workers' grpc servers (the kernel spreads connections) are exercised.
  for (let i = 0; i < 4; i++) assert.deepEqual(JSON.parse(await invokeLayotto(`127.0.0.1:${grpcPort}`)), ANSWER);

  for (const [protocol, port] of [
    [CommunicationProtocolEnum.GRPC, daprGrpc],
    [CommunicationProtocolEnum.HTTP, daprHttp],
  ] as const) {
    const client = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(port), communicationProtocol: protocol, logger: { level: LogLevel.Error } });
    const answer = await client.invoker.invoke(SERVICE, 'GetUser', HttpMethod.POST, JSON.parse(CALL) as object);
    assert.deepEqual(answer, ANSWER, `Dapr SDK over ${protocol === CommunicationProtocolEnum.GRPC ? 'gRPC' : 'HTTP'}`);
    await client.stop();
  }

  // An id no route knows: the egress proxy's own "no route" is the sidecar's error, NOT_FOUND, not a hang.
  await assert.rejects(
    new Promise((resolve, reject) => {
      const Runtime = grpc.makeGenericClientConstructor(serviceDefinition(LAYOTTO_SERVICE), 'Runtime');
      const client = new Runtime(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
      (client as unknown as Record<string, (r: object, cb: (e: unknown, r?: unknown) => void) => void>)['InvokeService']!.call(
        client,
        { id: 'no.such.Service', message: { method: 'GetUser', data: { value: Buffer.from(CALL) }, http_extension: { verb: 3 } } },
        (err, res) => {
          client.close();
          if (err) reject(err);
          else resolve(res);
        },
      );
    }),
    (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND && /no route/.test(err.details),
  );
});
