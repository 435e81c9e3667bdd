/**
 * Test scaffolding for the runtime API: a real TCP listener on port 0 whose accepted sockets go through
 * the `grpc` (or `dapr_http`) network filter exactly as a worker's listener hands them over, plus
 * upstreams and a grpc-js client built from Ringside's protos.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { Registry } from '../../src/common/registry.js';
import { http1Codec } from '../../src/protocol/http1/index.js';
import type { Connection, FilterChainBuilder, NetworkFilterFactory, ReadFilter, Transport } from '../../src/types/network.js';
import assert from 'node:assert/strict';
import type { ChannelStats } from '../../src/types/runtime.js';
import type { ChannelFactory } from '../../src/runtime/channel/factory.js';
import type { DaprSettings } from '../../src/config/types.js';
import type { RuntimeEnv } from '../../src/runtime/env.js';
import { LAYOTTO_SERVICE, DAPR_SERVICE, MosnInvoker, newInvokerFilterRegistries, registerBuiltinChannels, registerBuiltinInvokerFilters, RuntimeHost, serviceDefinition } from '../../src/runtime/index.js';
import type { ProtocolCodec } from '../../src/types/protocol.js';

export function makeEnv(over: Omit<Partial<RuntimeEnv>, 'dapr'> & { dapr?: Partial<DaprSettings> } = {}): RuntimeEnv {
  const invokerFilters = newInvokerFilterRegistries();
  registerBuiltinInvokerFilters(invokerFilters);
  const channels = new Registry<ChannelFactory>('channel');
  registerBuiltinChannels(channels, http1Codec as unknown as ProtocolCodec);
  return {
    workerIndex: 0,
    dialInProcess: undefined,
    invokerFilters,
    channels,
    maxGrpcMessageBytes: 4 * 1024 * 1024,
    requestShutdown: () => undefined,
    ...over,
    dapr: { enabled: true, grpc_port: 50001, http_port: 3500, api_token: undefined, app_id: 'ringside-test', ...over.dapr },
  };
}

/** The smallest Connection a hand-over filter needs: the transport, and nothing read yet. */
function fakeConnection(socket: Socket, listenerName: string): Connection {
  return {
    id: 1,
    listenerName,
    remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
    localAddress: `${socket.localAddress}:${socket.localPort}`,
    closed: false,
    write: () => undefined,
    close: () => socket.destroy(),
    setReadEnabled: () => undefined,
    addEventListener: () => undefined,
    takeTransport: (): Transport => ({ kind: 'socket', socket }),
    context: new Map(),
  };
}

export interface Listening {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A TCP listener on 127.0.0.1:0 running `factory` on each accepted socket. */
export async function listenWithFilter(factory: NetworkFilterFactory, config: unknown, name = 'grpc'): Promise<Listening> {
  const perConnection = factory.create(config, `listeners[${name}].filter_chains[0].filters[0].config`, {
    workerIndex: 0,
    listenerName: name,
    services: {},
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const filters: ReadFilter[] = [];
    const chain: FilterChainBuilder = { addReadFilter: (f) => filters.push(f), addWriteFilter: () => undefined };
    perConnection(fakeConnection(socket, name), chain);
    for (const f of filters) f.onNewConnection();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export function grpcConfig(listener: string, opts: { size?: number; before?: string[] } = {}): unknown {
  return {
    server_name: 'runtime',
    grpc_config: {
      rpcs: {
        mosn: {
          type: 'mosn',
          config: {
            before_invoke: (opts.before ?? ['dubbo_json_rpc']).map((name) => ({ name })),
            channel: [{ size: opts.size ?? 4, protocol: 'http', listener }],
          },
        },
      },
    },
  };
}

export interface Runtime {
  host: RuntimeHost;
  grpc: Listening;
  close(): Promise<void>;
}

export async function startRuntime(config: unknown, env: RuntimeEnv = makeEnv()): Promise<Runtime> {
  const host = new RuntimeHost(env);
  const grpcListener = await listenWithFilter(host.grpcFilterFactory, config);
  return {
    host,
    grpc: grpcListener,
    close: async () => {
      await host.close(100);
      await grpcListener.close();
    },
  };
}

type UnaryFn = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: any) => void) => grpc.ClientUnaryCall;

export interface TestClient {
  call(method: string, req: object, opts?: { deadlineMs?: number; metadata?: Record<string, string> }): Promise<any>;
  /** Starts a call and returns it, for cancellation tests. */
  start(method: string, req: object): { call: grpc.ClientUnaryCall; done: Promise<any> };
  close(): void;
}

/** A grpc-js client for the Layotto or Dapr service, from Ringside's protos. */
export function client(address: string, service: 'layotto' | 'dapr' = 'layotto', options: grpc.ChannelOptions = {}): TestClient {
  const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(service === 'layotto' ? LAYOTTO_SERVICE : DAPR_SERVICE), service);
  const c = new Ctor(address, grpc.credentials.createInsecure(), options) as unknown as grpc.Client & Record<string, UnaryFn>;
  const invoke = (method: string, req: object, opts: { deadlineMs?: number; metadata?: Record<string, string> } = {}) => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
    const callOpts: grpc.CallOptions = opts.deadlineMs === undefined ? {} : { deadline: Date.now() + opts.deadlineMs };
    let call!: grpc.ClientUnaryCall;
    const done = new Promise<any>((resolve, reject) => {
      call = c[method]!.call(c, req, md, callOpts, (err, res) => (err ? reject(err) : resolve(res)));
    });
    return { call, done };
  };
  return {
    call: (m, r, o) => invoke(m, r, o).done,
    start: (m, r) => invoke(m, r),
    close: () => c.close(),
  };
}

export const SEED_BODY = '{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}';
export const SEED_ANSWER = '{"jsonrpc":"2.0","id":9527,"result":{"id":"113","name":"Moorse","age":30,"time":703394193,"sex":"MAN"}}';

/** The walk-through's InvokeService request. */
export function seedRequest(id = 'org.apache.dubbo.samples.UserProvider', body = SEED_BODY): object {
  return { id, message: { method: 'GetUser', data: { value: Buffer.from(body) }, http_extension: { verb: 3 } } };
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * An HTTP upstream whose behaviour a test picks: `answer` returns status and body, or null to never
 * answer (the socket stays open). Records what it received.
 */
export async function recordingUpstream(answer: (r: SeenRequest) => { status: number; body: string } | null): Promise<Listening & { seen: SeenRequest[]; openSockets(): number }> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(r);
      const a = answer(r);
      if (a === null) return;
      res.writeHead(a.status, { 'content-type': 'application/json', 'x-upstream': 'yes' }).end(a.body);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    seen,
    openSockets: () => sockets.size,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The channel pool figures of the runtime server's invoker. */
export function channelStats(rt: Runtime): ChannelStats {
  const inv = rt.host.server('runtime')?.invoker;
  assert.ok(inv instanceof MosnInvoker, 'runtime server has a mosn invoker');
  return inv.channel.stats();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `fn` is true or `ms` pass; returns the last value. */
export async function eventually(fn: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return true;
    await sleep(10);
  }
  return fn();
}

/**
 * An app that answers by path: `/status/N` → status N with a JSON body, `/cookies` → 302 with Location
 * and two Set-Cookie, `/slow/MS` → 200 after MS ms, anything else → 200 echoing what it received
 * ({method, url, headers, bodyLength}). Records every request.
 */
export async function behavingApp(): Promise<Listening & { seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', (): void => {
      const body = Buffer.concat(chunks);
      const r: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString() };
      seen.push(r);
      const path = (req.url ?? '/').split('?')[0]!;
      const status = /^\/status\/(\d{3})$/.exec(path);
      const slow = /^\/slow\/(\d+)$/.exec(path);
      if (status !== null) {
        const code = Number(status[1]);
        if (code === 204) res.writeHead(204, { 'x-app': 'yes' }).end();
        else res.writeHead(code, { 'content-type': 'application/json', 'x-app': 'yes' }).end(JSON.stringify({ status: code }));
        return;
      }
      if (path === '/cookies') {
        res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; Path=/']);
        res.writeHead(302, { location: '/elsewhere', 'content-type': 'text/plain' }).end('moved');
        return;
      }
      if (slow !== null) {
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"slow":true}'), Number(slow[1]));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: r.method, url: r.url, headers: r.headers, bodyLength: body.length }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface DaprSidecar {
  host: RuntimeHost;
  /** The Layotto port (it carries the invoker's grpc_config). */
  layotto: Listening;
  /** The Dapr gRPC port (listener dapr_grpc, sharing the server name). */
  daprGrpc: Listening;
  daprHttp: Listening;
  close(): Promise<void>;
}

/** The three runtime ports as a worker wires them, the channel dialing `upstream` directly. */
export async function startDaprSidecar(upstream: string, opts: { env?: RuntimeEnv; timeout?: string | number; before?: string[]; size?: number } = {}): Promise<DaprSidecar> {
  const host = new RuntimeHost(opts.env ?? makeEnv());
  const cfg = grpcConfig(upstream, { before: opts.before ?? [], size: opts.size ?? 4 }) as { grpc_config: { rpcs: { mosn: { config: Record<string, unknown> } } } };
  if (opts.timeout !== undefined) cfg.grpc_config.rpcs.mosn.config['timeout'] = opts.timeout;
  const layotto = await listenWithFilter(host.grpcFilterFactory, cfg);
  const daprGrpc = await listenWithFilter(host.grpcFilterFactory, { server_name: 'runtime' }, 'dapr_grpc');
  const daprHttp = await listenWithFilter(host.daprHttpFilterFactory, { server_name: 'runtime' }, 'dapr_http');
  return {
    host,
    layotto,
    daprGrpc,
    daprHttp,
    close: async () => {
      await host.close(100);
      await Promise.all([layotto.close(), daprGrpc.close(), daprHttp.close()]);
    },
  };
}

export interface HttpAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: string;
}

/** One plain HTTP/1.1 request (no agent: a fresh connection). */
export function httpCall(port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: opts.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
