import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { status as Status } from '@grpc/grpc-js';
import { DaprClient, CommunicationProtocolEnum, HttpMethod, LogLevel } from '@dapr/dapr';
import { RuntimeHost, startDemoUpstream } from '../../src/runtime/index.js';
import { SEED_ANSWER, client, grpcConfig, listenWithFilter, makeEnv, seedRequest, type Listening } from './helpers.js';

const APP_ID = 'org.apache.dubbo.samples.UserProvider';
const PARAMS = { jsonrpc: '2.0', method: 'GetUser', params: ['A003'], id: 9527 };

interface Sidecar {
  grpc: Listening;
  http: Listening;
  close(): Promise<void>;
}

/** The Layotto gRPC port and the Dapr ports, as the worker wires them: one server, one invoker. */
async function startSidecar(apiToken?: string): Promise<Sidecar> {
  const upstream = await startDemoUpstream('127.0.0.1:0');
  const host = new RuntimeHost(makeEnv({ dapr: { api_token: apiToken } }));
  const grpc = await listenWithFilter(host.grpcFilterFactory, grpcConfig(upstream.address));
  const daprGrpc = await listenWithFilter(host.grpcFilterFactory, { server_name: 'runtime' }, 'dapr_grpc');
  const http = await listenWithFilter(host.daprHttpFilterFactory, { server_name: 'runtime' }, 'dapr_http');
  return {
    grpc: daprGrpc,
    http,
    close: async () => {
      await host.close(100);
      await Promise.all([grpc.close(), daprGrpc.close(), http.close(), upstream.close()]);
    },
  };
}

function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the official Dapr JS SDK over gRPC gets the demo answer (connect-node transport)', async () => {
  const sc = await startSidecar();
  const dapr = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(sc.grpc.port), communicationProtocol: CommunicationProtocolEnum.GRPC, logger: { level: LogLevel.Error } });
  try {
    const res = await dapr.invoker.invoke(APP_ID, 'GetUser', HttpMethod.POST, PARAMS);
    assert.deepEqual(res, JSON.parse(SEED_ANSWER));
    const md = await dapr.metadata.get();
    assert.equal(md.id, 'ringside-test');
  } finally {
    await dapr.stop();
    await sc.close();
  }
});

test('the official Dapr JS SDK over HTTP gets the demo answer', async () => {
  const sc = await startSidecar();
  const dapr = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(sc.http.port), communicationProtocol: CommunicationProtocolEnum.HTTP, logger: { level: LogLevel.Error } });
  try {
    const res = await dapr.invoker.invoke(APP_ID, 'GetUser', HttpMethod.POST, PARAMS);
    assert.deepEqual(res, JSON.parse(SEED_ANSWER));
  } finally {
    await dapr.stop();
    await sc.close();
  }
});

test('grpc-js on the Dapr service: InvokeService and GetMetadata (a second client implementation)', async () => {
  const sc = await startSidecar();
  const c = client(sc.grpc.address, 'dapr');
  try {
    const res = await c.call('InvokeService', seedRequest(APP_ID));
    assert.equal(Buffer.from(res.data.value).toString(), SEED_ANSWER);
    const md = await c.call('GetMetadata', {});
    assert.equal(md.id, 'ringside-test');
    assert.equal(md.runtime_version, 'ringside-0.1.0');
  } finally {
    c.close();
    await sc.close();
  }
});

test('Dapr HTTP healthz, outbound healthz and metadata answer', async () => {
  const sc = await startSidecar();
  try {
    assert.equal((await httpGet(sc.http.port, '/v1.0/healthz')).status, 204);
    assert.equal((await httpGet(sc.http.port, '/v1.0/healthz/outbound')).status, 204);
    const md = await httpGet(sc.http.port, '/v1.0/metadata');
    assert.equal(md.status, 200);
    assert.equal(JSON.parse(md.body).id, 'ringside-test');
    assert.equal((await httpGet(sc.http.port, '/v1.0/state/x')).status, 404);
  } finally {
    await sc.close();
  }
});

test('with an API token, calls without dapr-api-token are refused on both protocols; health stays open', async () => {
  const sc = await startSidecar('s3cret');
  const c = client(sc.grpc.address, 'dapr');
  try {
    await assert.rejects(c.call('InvokeService', seedRequest(APP_ID)), (e: { code: number }) => e.code === Status.UNAUTHENTICATED);
    const ok = await c.call('InvokeService', seedRequest(APP_ID), { metadata: { 'dapr-api-token': 's3cret' } });
    assert.equal(Buffer.from(ok.data.value).toString(), SEED_ANSWER);
    assert.equal((await httpGet(sc.http.port, '/v1.0/metadata')).status, 401);
    assert.equal((await httpGet(sc.http.port, '/v1.0/metadata', { 'dapr-api-token': 's3cret' })).status, 200);
    assert.equal((await httpGet(sc.http.port, '/v1.0/healthz')).status, 204);
    const dapr = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(sc.grpc.port), daprApiToken: 's3cret', communicationProtocol: CommunicationProtocolEnum.GRPC, logger: { level: LogLevel.Error } });
    assert.deepEqual(await dapr.invoker.invoke(APP_ID, 'GetUser', HttpMethod.POST, PARAMS), JSON.parse(SEED_ANSWER));
    await dapr.stop();
  } finally {
    c.close();
    await sc.close();
  }
});
