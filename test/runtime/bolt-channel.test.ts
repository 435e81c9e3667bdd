/**
 * Layotto's `bolt` and `boltv2` channels end to end through one `ringside start`: the Layotto gRPC
 * client and the Dapr SDK → InvokeService → the channel → Ringside's bolt (boltv2) proxy listener
 * (in process, over a RingPipe) → a sofa-rpc-node server. JSON calls (`plus` [1,2] → 3, argTypes,
 * exceptions), opaque SofaRequest content as Layotto passes it with metadata as bolt headers, many
 * calls on `size` connections, rpc_request_timeout, oneway, rpc_target_address, and the status →
 * gRPC code mapping (the proxy's NO_PROCESSOR for an unknown service is UNAVAILABLE).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { CommunicationProtocolEnum, DaprClient, HttpMethod, LogLevel } from '@dapr/dapr';
import { startChild } from '../supervisor/helpers.js';
import { LAYOTTO_SERVICE, serviceDefinition } from '../../src/runtime/proto.js';
import { boltCodec, boltResponseBytes } from '../../src/protocol/bolt/codec.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const sofa = require('sofa-rpc-node') as any;
const sofaProtocol = require('sofa-bolt-node/lib/protocol') as {
  requestEncode(id: number, req: unknown, options: unknown): Buffer;
  decode(frame: Buffer, options: object): { data: { error: Error | null; appResponse: unknown } };
};
const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const CALC = 'com.example.Calc:1.0';
const SOFA_REQUEST = 'com.alipay.sofa.rpc.core.request.SofaRequest';

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

type Unary = (r: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: any) => void) => void;

function layotto(address: string) {
  const Runtime = grpc.makeGenericClientConstructor(serviceDefinition(LAYOTTO_SERVICE), 'Runtime');
  const client = new Runtime(address, grpc.credentials.createInsecure());
  return {
    invoke(id: string, method: string, data: Buffer, opts: { json?: boolean; metadata?: Record<string, string> } = {}): Promise<{ text: string; data: Buffer; metadata: grpc.Metadata }> {
      const md = new grpc.Metadata();
      for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
      const message = { method, data: { value: data }, ...(opts.json === false ? {} : { content_type: 'application/json' }) };
      return new Promise((resolve, reject) => {
        let headers = new grpc.Metadata();
        const call = (client as unknown as Record<string, Unary>)['InvokeService']!.call(client, { id, message }, md, { deadline: Date.now() + 5000 }, (err, res) => {
          if (err) reject(err);
          else resolve({ text: Buffer.from(res.data?.value ?? []).toString(), data: Buffer.from(res.data?.value ?? []), metadata: headers });
        }) as unknown as grpc.ClientUnaryCall;
        call.on('metadata', (m) => (headers = m));
      });
    },
    close: () => client.close(),
  };
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

test('bolt and boltv2 channels: Layotto gRPC and the Dapr SDK call a sofa-rpc-node service through the bolt proxy with JSON and opaque content', async (t) => {
  const server = new sofa.server.RpcServer({ logger: quiet, port: 0 });
  const seen: { method: string; props: unknown }[] = [];
  server.addService(
    { interfaceName: 'com.example.Calc' },
    {
      async plus(a: number, b: number) {
        return a + b;
      },
      async concat(a: unknown, b: unknown) {
        return `${String(a)}${String(b)}`;
      },
      async echo(v: unknown) {
        seen.push({ method: 'echo', props: null });
        return v;
      },
      async sleep(ms: number) {
        await new Promise((r) => setTimeout(r, ms));
        return ms;
      },
      async fail() {
        throw new Error('calculator is broken');
      },
    },
  );
  await server.start();
  t.after(() => server.close());
  const upstream = `127.0.0.1:${(server._servers[0].address() as AddressInfo).port}`;

  const [daprGrpc, daprHttp] = [await freePort(), await freePort()];
  const runtime = (name: string, protocol: string, listener: string) => ({
    name,
    address: '127.0.0.1:0',
    bind_port: true,
    filter_chains: [{ filters: [{ type: 'grpc', config: { server_name: name, grpc_config: { rpcs: { mosn: { config: { channel: [{ protocol, listener, size: 2, ext: { class: SOFA_REQUEST } }] } } } } } }] }],
  });
  const egress = (name: string, protocol: string) => ({
    name,
    address: name,
    filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: protocol, router_config_name: 'sofa' } }] }],
  });
  const cfg = {
    servers: [
      {
        routers: [{ router_config_name: 'sofa', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { headers: [{ name: 'service', value: CALC }] }, route: { cluster_name: 'calc' } }] }] }],
        listeners: [runtime('runtime', 'bolt', 'bolt_egress'), runtime('runtime_v2', 'boltv2', 'boltv2_egress'), egress('bolt_egress', 'bolt'), egress('boltv2_egress', 'boltv2')],
      },
    ],
    cluster_manager: { clusters: [{ name: 'calc', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: upstream }] }] },
    ringside: { admin: { enabled: false }, drain_timeout: 1000, dapr: { enabled: true, grpc_port: daprGrpc, http_port: daprHttp } },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-bolt-channel-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(cfg));
  const child = startChild(main, ['start', '-c', file, '--workers', '1']);
  t.after(() => child.kill());
  const ready = await child.waitStdout(/^ringside ready:/, 20_000);
  const addr = (name: string): string => new RegExp(`${name}@([^,\\s]+)`).exec(ready)![1]!;

  for (const name of ['runtime', 'runtime_v2']) {
    const c = layotto(addr(name));
    try {
      // InvokeService(id="com.example.Calc:1.0", method="plus", data=[1,2]) → 3.
      assert.equal((await c.invoke(CALC, 'plus', json([1, 2]))).text, '3', name);
      assert.equal((await c.invoke(CALC, 'concat', json({ args: [7, 'x'], argTypes: ['long', 'java.lang.String'] }))).text, '"7x"');
      assert.deepEqual(JSON.parse((await c.invoke(CALC, 'echo', json([{ a: [1, 'b'] }]))).text), { a: [1, 'b'] });
      // Many calls at once on `size` (2) connections, each answered with its own result.
      const sums = await Promise.all(Array.from({ length: 100 }, (_, i) => c.invoke(CALC, 'plus', json([i, 1000]))));
      assert.deepEqual(sums.map((r) => r.text), Array.from({ length: 100 }, (_, i) => String(i + 1000)));
      // The service threw: UNAVAILABLE with its message; an unknown service: the proxy's NO_PROCESSOR (6).
      await assert.rejects(c.invoke(CALC, 'fail', json([])), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE && /calculator is broken/.test(e.details));
      await assert.rejects(c.invoke('com.example.Nope:1.0', 'plus', json([1, 2])), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE && /bolt error code 6\b/.test(e.details));
      // rpc_request_timeout is the bolt timeout field: the proxy answers TIMEOUT (7) at 100 ms.
      const t0 = Date.now();
      await assert.rejects(c.invoke(CALC, 'sleep', json([2000]), { metadata: { rpc_request_timeout: '100' } }), (e: grpc.ServiceError) => e.code === grpc.status.DEADLINE_EXCEEDED || /bolt error code 7\b/.test(e.details));
      assert.ok(Date.now() - t0 < 1500, 'ended by rpc_request_timeout');
      // Oneway: answered at once with empty data, and the call reaches the service.
      const before = seen.length;
      assert.equal((await c.invoke(CALC, 'echo', json(['fire']), { metadata: { rpc_request_type: 'oneway' } })).text, '');
      for (let i = 0; i < 100 && seen.length === before; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(seen.length, before + 1, 'the oneway call reached the service');
      // rpc_target_address: this call goes straight to the server, not through the egress listener.
      assert.equal((await c.invoke(CALC, 'plus', json([40, 2]), { metadata: { rpc_target_address: upstream } })).text, '42');
    } finally {
      c.close();
    }
  }

  // Opaque: data is the SofaRequest content as Layotto passes it; metadata travels as bolt headers
  // (the proxy routes on `service`), and the answer is the SofaResponse content.
  // sofa-bolt-node writes the request; its content is what a Layotto caller hands the channel.
  const frame = sofaProtocol.requestEncode(1, { serverSignature: CALC, methodName: 'plus', args: [{ $class: 'int', $: 40 }, { $class: 'int', $: 2 }], timeout: 3000, requestProps: {} }, { protocolType: 'bolt', codecType: 'hessian2', boltVersion: 1 });
  const decoded = boltCodec.decode(frame, { maxHeaderBytes: 1 << 16, maxContentBytes: 1 << 20 });
  assert.equal(decoded.kind, 'frame');
  const content = (decoded as { frame: { content: Buffer } }).frame.content;
  const c = layotto(addr('runtime'));
  try {
    const res = await c.invoke(CALC, 'plus', content, { json: false, metadata: { service: CALC } });
    // sofa-bolt-node reads the content as a SofaResponse, as SOFARPC's Node.js client would.
    const answer = sofaProtocol.decode(boltResponseBytes('com.alipay.sofa.rpc.core.response.SofaResponse', res.data), {}).data;
    assert.equal(answer.error, null);
    assert.equal(answer.appResponse, 42);
    // Without the `service` header the proxy has no route: bolt NO_PROCESSOR.
    await assert.rejects(c.invoke(CALC, 'plus', content, { json: false }), (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE && /bolt error code 6\b/.test(e.details));
  } finally {
    c.close();
  }

  // The Dapr SDK on the same invoker: invoke('com.example.Calc:1.0', 'plus', POST, [20, 22]) → 42.
  const dapr = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(daprGrpc), communicationProtocol: CommunicationProtocolEnum.GRPC, logger: { level: LogLevel.Error } });
  try {
    assert.equal(await dapr.invoker.invoke(CALC, 'plus', HttpMethod.POST, [20, 22]), 42);
  } finally {
    await dapr.stop();
  }
});
