/**
 * `ringside bench -p grpc` and `ringside tune -p grpc` through a real `ringside start` whose Http2
 * proxy listener fronts a grpc-js server: every call is answered by that server (the count it saw
 * matches, with the request the bench encoded), none fails, and tune finds the Http2 listener by
 * itself in the config.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { deriveTarget } from '../../src/loadgen/tune/target.js';
import { startSidecar, writeConfig, type Sidecar } from '../fuzz/sidecar.js';
import { fixturePath, runCli } from './fixtures/servers.js';

const PROTO = fixturePath('echo.proto');
let server: grpc.Server;
let sidecar: Sidecar;
let config: unknown;
const seen: string[] = [];

before(async () => {
  const root = new protobuf.Root().loadSync(PROTO, { keepCase: true });
  const Req = root.lookupType('loadtest.v1.SayRequest');
  const Res = root.lookupType('loadtest.v1.SayReply');
  server = new grpc.Server();
  server.addService(
    {
      Say: {
        path: '/loadtest.v1.Echo/Say',
        requestStream: false,
        responseStream: false,
        requestSerialize: (v: object) => Buffer.from(Req.encode(Req.fromObject(v)).finish()),
        requestDeserialize: (b: Buffer) => Req.toObject(Req.decode(b)) as { text: string },
        responseSerialize: (v: object) => Buffer.from(Res.encode(Res.fromObject(v)).finish()),
        responseDeserialize: (b: Buffer) => Res.toObject(Res.decode(b)),
      },
    },
    {
      Say: (call: grpc.ServerUnaryCall<{ text: string }, object>, cb: grpc.sendUnaryData<object>) => {
        seen.push(call.request.text);
        cb(null, { text: `echo:${call.request.text}` });
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  config = {
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'vh', domains: ['*'], routers: [{ match: { prefix: '/loadtest.v1.Echo/' }, route: { cluster_name: 'echo' } }] }] }],
        listeners: [
          // An HTTP/1 proxy first: tune's -p grpc target must skip it for the Http2 one.
          { name: 'plain', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http2', router_config_name: 'r' } }] }] },
          { name: 'h2in', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http2', upstream_protocol: 'Http2', router_config_name: 'r' } }] }] },
        ],
      },
    ],
    cluster_manager: { clusters: [{ name: 'echo', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: `127.0.0.1:${port}` }] }] },
    ringside: { admin: { address: '127.0.0.1:0' }, dapr: { enabled: false } },
  };
  sidecar = await startSidecar(config, { workers: 1 });
});

after(async () => {
  await sidecar?.stop();
  server?.forceShutdown();
});

const grpcLoad = ['-p', 'grpc', '--proto', PROTO, '--call', 'loadtest.v1.Echo/Say', '--message', '{"text":"through"}'];

test('bench -p grpc through the Http2 proxy listener: every call answered OK by the grpc-js server', async () => {
  const r = await runCli(['bench', ...grpcLoad, '-c', '2', '--concurrency', '8', '-n', '400', '--threads', '1', '--json', `http://${sidecar.listeners.get('h2in')}`]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { requests: number; errors: number; errors_by_status: Record<string, number> };
  assert.equal(out.requests, 400);
  assert.equal(out.errors, 0, JSON.stringify(out.errors_by_status));
  assert.equal(seen.length, 400, 'each call reached the grpc-js server once');
  assert.ok(seen.every((t) => t === 'through'));
});

test('tune -p grpc derives the Http2 proxy listener as its target and drives it', async () => {
  assert.throws(() => deriveTarget({ servers: [] }, new Map(), 'grpc'), /no proxy listener with an Http2 or Auto downstream/);
  const before = seen.length;
  const r = await runCli(['tune', '-c', writeConfig(config), '--workers', '1', '--duration', '500ms', '--warmup', '0', ...grpcLoad, '--connections', '1', '--concurrency', '4', '--json'], 60_000);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { target: string; results: { requests?: number; errors: number; rps: number }[] };
  assert.match(out.target, /^http:\/\/127\.0\.0\.1:\d+\/ \(listener "h2in" \(proxy filter, Http2 downstream\)\)$/);
  assert.equal(out.results[0]!.errors, 0);
  assert.ok(seen.length - before > 0, 'the tune step reached the grpc-js server');
});
