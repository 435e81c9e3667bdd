/**
 * A grpc-js service with all four call types on raw Buffer messages (no proto needed), and the
 * Ringside config that fronts it over HTTP/2.
 */
import * as grpc from '@grpc/grpc-js';

const raw = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};

export const echoService: grpc.ServiceDefinition = {
  Unary: { path: '/test.Echo/Unary', requestStream: false, responseStream: false, ...raw },
  Fail: { path: '/test.Echo/Fail', requestStream: false, responseStream: false, ...raw },
  Never: { path: '/test.Echo/Never', requestStream: false, responseStream: false, ...raw },
  ServerStream: { path: '/test.Echo/ServerStream', requestStream: false, responseStream: true, ...raw },
  ClientStream: { path: '/test.Echo/ClientStream', requestStream: true, responseStream: false, ...raw },
  Bidi: { path: '/test.Echo/Bidi', requestStream: true, responseStream: true, ...raw },
};

export const EchoClient = grpc.makeGenericClientConstructor(echoService, 'Echo');
export type EchoClientT = InstanceType<typeof EchoClient>;

export interface EchoServer {
  server: grpc.Server;
  address: string;
  /** Calls the server saw cancelled. */
  cancelled: string[];
  /** A server stream that is in progress (for killing the server mid-stream). */
  streaming: Promise<void>;
}

export async function startEchoServer(opts: { streamCount?: number; slowStream?: boolean } = {}): Promise<EchoServer> {
  const server = new grpc.Server();
  const cancelled: string[] = [];
  let streamingStarted!: () => void;
  const streaming = new Promise<void>((r) => (streamingStarted = r));
  server.addService(echoService, {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const md = new grpc.Metadata();
      md.set('x-seen-xff', String(call.metadata.get('x-forwarded-for')[0] ?? ''));
      call.sendMetadata(md);
      const trailer = new grpc.Metadata();
      trailer.set('x-trailer', 'from-server');
      cb(null, Buffer.concat([Buffer.from('echo:'), call.request]), trailer);
    },
    Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const md = new grpc.Metadata();
      md.set('x-why', 'because');
      cb({ code: grpc.status.NOT_FOUND, details: 'no such thing', metadata: md });
    },
    Never: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => {
      call.on('cancelled', () => cancelled.push('Never'));
    },
    ServerStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const n = opts.streamCount ?? Number(call.request.toString() || '1000');
      call.on('cancelled', () => cancelled.push('ServerStream'));
      let i = 0;
      streamingStarted();
      const pump = (): void => {
        while (i < n) {
          if (call.cancelled) return;
          const ok = call.write(Buffer.from(`m${i++}`));
          if (opts.slowStream) {
            setTimeout(pump, 5);
            return;
          }
          if (!ok) {
            call.once('drain', pump);
            return;
          }
        }
        call.end();
      };
      pump();
    },
    ClientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      let count = 0;
      let bytes = 0;
      call.on('data', (b: Buffer) => {
        count++;
        bytes += b.length;
      });
      call.on('end', () => cb(null, Buffer.from(`${count}/${bytes}`)));
    },
    Bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (b: Buffer) => call.write(Buffer.concat([Buffer.from('pong:'), b])));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, address: `127.0.0.1:${port}`, cancelled, streaming };
}

/** One HTTP/2 proxy listener routing gRPC by :path prefix to the given clusters. */
export function grpcProxyConfig(opts: { routes: unknown[]; clusters: unknown[]; downstream?: string; upstream?: string; ringside?: unknown }): unknown {
  return {
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'vh', domains: ['*'], routers: opts.routes }] }],
        listeners: [
          {
            name: 'ingress',
            address: '127.0.0.1:0',
            bind_port: true,
            filter_chains: [
              {
                filters: [
                  {
                    type: 'proxy',
                    config: { downstream_protocol: opts.downstream ?? 'Http2', upstream_protocol: opts.upstream ?? 'Http2', router_config_name: 'r' },
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
    cluster_manager: { clusters: opts.clusters },
    ...(opts.ringside !== undefined ? { ringside: opts.ringside } : {}),
  };
}

export function unary(client: EchoClientT, method: string, body: Buffer, options: grpc.CallOptions = {}) {
  return new Promise<{ err: grpc.ServiceError | null; value?: Buffer; headers?: grpc.Metadata; trailers?: grpc.Metadata }>((resolve) => {
    let headers: grpc.Metadata | undefined;
    let result: { err: grpc.ServiceError | null; value?: Buffer } | undefined;
    const call = (client as unknown as Record<string, (...a: unknown[]) => grpc.ClientUnaryCall>)[method]!(
      body,
      new grpc.Metadata(),
      options,
      (err: grpc.ServiceError | null, value?: Buffer) => (result = { err, ...(value !== undefined ? { value } : {}) }),
    );
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
    // 'status' comes after the callback: the whole exchange is known then.
    call.on('status', (s: grpc.StatusObject) => setImmediate(() => resolve({ err: null, ...result, ...(headers !== undefined ? { headers } : {}), trailers: s.metadata })));
  });
}
