import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { packageRoot } from '../../src/loadgen/grpc-request.js';
import { fixturePath, runCli } from './fixtures/servers.js';

type Decoded = Record<string, unknown>;

/** A grpc-js server for one unary method, with (de)serialisers built from the .proto by protobufjs. */
async function serveUnary(protoFile: string, service: string, method: string, handle: (req: Decoded) => { code?: grpc.status; reply?: Decoded }): Promise<{ url: string; seen: Decoded[]; close: () => Promise<void> }> {
  const root = new protobuf.Root();
  const protoRoot = join(packageRoot(), 'proto');
  root.resolvePath = (origin, target) => {
    if (target in protobuf.common) return target;
    for (const c of [join(dirname(origin), target), join(protoRoot, target)]) if (existsSync(c)) return c;
    return target;
  };
  root.loadSync(protoFile, { keepCase: true });
  const svc = root.lookupService(service);
  const m = svc.methods[method]!;
  m.resolve();
  const reqType = m.resolvedRequestType!;
  const resType = m.resolvedResponseType!;
  const seen: Decoded[] = [];
  const server = new grpc.Server();
  server.addService(
    {
      [method]: {
        path: `/${service}/${method}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: (v: Decoded) => Buffer.from(reqType.encode(reqType.fromObject(v)).finish()),
        requestDeserialize: (b: Buffer) => reqType.toObject(reqType.decode(b), { defaults: true }) as Decoded,
        responseSerialize: (v: Decoded) => Buffer.from(resType.encode(resType.fromObject(v)).finish()),
        responseDeserialize: (b: Buffer) => resType.toObject(resType.decode(b)) as Decoded,
      },
    },
    {
      [method]: (call: grpc.ServerUnaryCall<Decoded, Decoded>, cb: grpc.sendUnaryData<Decoded>) => {
        seen.push(call.request);
        const out = handle(call.request);
        if (out.code !== undefined) cb({ code: out.code, details: 'test failure' });
        else cb(null, out.reply ?? {});
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.tryShutdown(() => r())) };
}

interface Out {
  requests: number;
  errors: number;
  errors_by_status: Record<string, number>;
  latency_us: Record<string, number>;
}

describe('grpc bench against a grpc-js server', () => {
  let echo: Awaited<ReturnType<typeof serveUnary>>;
  before(async () => {
    echo = await serveUnary(fixturePath('echo.proto'), 'loadtest.v1.Echo', 'Say', (req) =>
      req.text === 'fail' ? { code: grpc.status.UNAVAILABLE } : { reply: { text: String(req.text) } },
    );
  });
  after(() => echo.close());

  it('drives any unary method from --proto/--call/--message, camelCase names accepted', async () => {
    const r = await runCli(['bench', '-p', 'grpc', '--proto', fixturePath('echo.proto'), '--call', 'loadtest.v1.Echo/Say',
      '--message', '{"text":"hi","repeatCount":3,"inner":{"note":"n"}}', '-c', '2', '--concurrency', '4', '-d', '1s', '--json', echo.url]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Out;
    assert.ok(out.requests > 50, `requests ${out.requests}`);
    assert.equal(out.errors, 0);
    assert.ok(out.latency_us.p50! > 0);
    assert.deepEqual(echo.seen.at(-1), { text: 'hi', repeat_count: 3, inner: { note: 'n' } });
  });

  it('counts non-OK grpc-status by code name, and a run where all fail is invalid', async () => {
    const r = await runCli(['bench', '-p', 'grpc', '--proto', fixturePath('echo.proto'), '--call', 'loadtest.v1.Echo/Say',
      '--message', '{"text":"fail"}', '-c', '1', '-n', '30', '--json', echo.url]);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as Out;
    assert.equal(out.requests, 30);
    assert.deepEqual(out.errors_by_status, { UNAVAILABLE: 30 });
    assert.match(r.stderr, /every request failed/);
  });
});

describe('grpc runtime API presets', () => {
  const presets = [
    { api: 'layotto', file: 'proto/spec/proto/runtime/v1/runtime.proto', service: 'spec.proto.runtime.v1.Runtime', reply: { content_type: 'application/json' } },
    { api: 'dapr', file: 'proto/dapr/proto/runtime/v1/dapr.proto', service: 'dapr.proto.runtime.v1.Dapr', reply: { content_type: 'application/json' } },
  ];
  for (const p of presets) {
    const file = join(packageRoot(), p.file);
    it(`--grpc-api ${p.api} sends InvokeService with --id, --method and --data`, { skip: !existsSync(file) && `${p.file} not present` }, async () => {
      const server = await serveUnary(file, p.service, 'InvokeService', () => ({ reply: p.reply }));
      try {
        const r = await runCli(['bench', '-p', 'grpc', '--grpc-api', p.api, '--id', 'svc.A', '--method', 'Hello', '--data', '{"x":1}', '-n', '20', '-c', '1', '--json', server.url]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal((JSON.parse(r.stdout) as Out).requests, 20);
        const req = server.seen[0] as { id: string; message: { method: string; content_type: string; data: { value: Buffer }; http_extension: { verb: unknown } } };
        assert.equal(req.id, 'svc.A');
        assert.equal(req.message.method, 'Hello');
        assert.equal(req.message.content_type, 'application/json');
        assert.equal(Buffer.from(req.message.data.value).toString(), '{"x":1}');
        assert.ok(req.message.http_extension.verb === 3 || req.message.http_extension.verb === 'POST');
      } finally {
        await server.close();
      }
    });
  }
});
