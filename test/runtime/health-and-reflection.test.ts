/**
 * gRPC health (Check, Watch) and server reflection v1 and v1alpha on both runtime ports, with
 * grpc-js clients built from the health and reflection protos, as grpc-health-probe and grpcurl use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { behavingApp, makeEnv, startDaprSidecar } from './helpers.js';

const require = createRequire(import.meta.url);
const reflectionProtos = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto');

type Ctor = new (address: string, creds: grpc.ChannelCredentials) => grpc.Client & Record<string, Function>;

function load(file: string, includeDirs: string[], service: string): Ctor {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(file, { keepCase: true, includeDirs, enums: String }));
  return service.split('.').reduce((o: any, k) => o[k], pkg) as Ctor;
}

const Health = load(healthProtoPath, [], 'grpc.health.v1.Health');
const ReflectionV1 = load('grpc/reflection/v1/reflection.proto', [reflectionProtos], 'grpc.reflection.v1.ServerReflection');
const ReflectionV1alpha = load('grpc/reflection/v1alpha/reflection.proto', [reflectionProtos], 'grpc.reflection.v1alpha.ServerReflection');

function check(address: string, service: string, md = new grpc.Metadata()): Promise<{ status?: string; code?: number }> {
  const c = new Health(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    c['Check']!.call(c, { service }, md, (err: grpc.ServiceError | null, res: { status: string }) => {
      c.close();
      resolve(err ? { code: err.code } : { status: res.status });
    });
  });
}

function listServices(Reflection: Ctor, address: string, md = new grpc.Metadata()): Promise<string[]> {
  const c = new Reflection(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const stream = c['ServerReflectionInfo']!.call(c, md) as grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }>;
    stream.on('data', (res) => {
      resolve((res.list_services_response?.service ?? []).map((s: { name: string }) => s.name).sort());
      stream.end();
      c.close();
    });
    stream.on('error', (e) => {
      c.close();
      reject(e);
    });
    stream.write({ list_services: '' });
  });
}

test('9: health answers SERVING on both ports (no token needed), reflection v1 and v1alpha list the services; NOT_SERVING once draining', async () => {
  const app = await behavingApp();
  const sc = await startDaprSidecar(app.address, { env: makeEnv({ dapr: { api_token: 's3cret' } }) });
  const token = new grpc.Metadata();
  token.set('dapr-api-token', 's3cret');
  try {
    for (const address of [sc.layotto.address, sc.daprGrpc.address]) {
      for (const service of ['', 'spec.proto.runtime.v1.Runtime', 'dapr.proto.runtime.v1.Dapr']) {
        assert.deepEqual(await check(address, service), { status: 'SERVING' }, `${address} ${service}`);
      }
      assert.equal((await check(address, 'no.such.Service')).code, grpc.status.NOT_FOUND);
    }
    const expected = ['dapr.proto.runtime.v1.Dapr', 'grpc.health.v1.Health', 'spec.proto.runtime.v1.Runtime'];
    for (const Reflection of [ReflectionV1, ReflectionV1alpha]) {
      assert.deepEqual(await listServices(Reflection, sc.layotto.address), expected);
      assert.deepEqual(await listServices(Reflection, sc.daprGrpc.address, token), expected);
      // The Dapr gRPC port's token guards reflection too.
      await assert.rejects(listServices(Reflection, sc.daprGrpc.address), (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED);
    }

    // A Watch stream sees the drain.
    const c = new Health(sc.layotto.address, grpc.credentials.createInsecure());
    const seen: string[] = [];
    const watch = c['Watch']!.call(c, { service: '' }) as grpc.ClientReadableStream<{ status: string }>;
    const notServing = new Promise<void>((resolve) => {
      watch.on('data', (m) => {
        seen.push(m.status);
        if (m.status === 'NOT_SERVING') resolve();
      });
      watch.on('error', () => resolve());
    });
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    const closing = sc.host.close(300);
    await notServing;
    assert.deepEqual(seen, ['SERVING', 'NOT_SERVING']);
    c.close();
    await closing;
  } finally {
    await sc.close();
    await app.close();
  }
});
