/**
 * gRPC through Ringside's HTTP/2 proxy with real peers: grpc-js clients and servers, node:http2 for
 * what grpc-js will not send by itself (a bare grpc-timeout, a GOAWAY), curl for plain HTTP/2.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { cluster, deadAddress, startDataplane, type Dataplane } from './harness.js';
import { EchoClient, grpcProxyConfig, startEchoServer, unary, type EchoClientT, type EchoServer } from './grpc-harness.js';

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

async function setup(routes?: unknown[], clusters?: (s: EchoServer) => unknown[]): Promise<{ server: EchoServer; plane: Dataplane; client: EchoClientT; addr: string }> {
  const server = await startEchoServer();
  closers.push(() => server.server.forceShutdown());
  const plane = await startDataplane(
    grpcProxyConfig({
      routes: routes ?? [{ match: { prefix: '/test.Echo/' }, route: { cluster_name: 'echo' } }],
      clusters: clusters?.(server) ?? [cluster('echo', [server.address])],
    }),
  );
  closers.push(() => plane.close());
  const addr = plane.addresses.get('ingress')!;
  const client = new EchoClient(addr, grpc.credentials.createInsecure());
  closers.push(() => client.close());
  return { server, plane, client, addr };
}

test('unary, server stream of 1,000, client stream, bidi ping-pong: all four call types pass through', async () => {
  const { client } = await setup();
  const u = await unary(client, 'Unary', Buffer.from('hi'));
  assert.equal(u.err, null);
  assert.equal(u.value!.toString(), 'echo:hi');
  assert.equal(u.headers!.get('x-seen-xff')[0], '127.0.0.1', 'X-Forwarded-For added on the way');
  assert.equal(u.trailers!.get('x-trailer')[0], 'from-server', 'trailers forwarded');

  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const call = client.ServerStream(Buffer.from('1000')) as grpc.ClientReadableStream<Buffer>;
    call.on('data', (b: Buffer) => got.push(b.toString()));
    call.on('error', reject);
    call.on('status', (s) => (s.code === 0 ? resolve() : reject(new Error(s.details))));
  });
  assert.equal(got.length, 1000);
  assert.equal(got[999], 'm999');

  const sum = await new Promise<string>((resolve, reject) => {
    const call = client.ClientStream((err: grpc.ServiceError | null, v: Buffer) => (err ? reject(err) : resolve(v.toString()))) as grpc.ClientWritableStream<Buffer>;
    for (let i = 0; i < 100; i++) call.write(Buffer.alloc(1000, i));
    call.end();
  });
  assert.equal(sum, '100/100000');

  const pongs: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const call = client.Bidi() as grpc.ClientDuplexStream<Buffer, Buffer>;
    let n = 0;
    call.on('data', (b: Buffer) => {
      pongs.push(b.toString());
      if (++n < 50) call.write(Buffer.from(`p${n}`));
      else call.end();
    });
    call.on('error', reject);
    call.on('status', (s) => (s.code === 0 ? resolve() : reject(new Error(s.details))));
    call.write(Buffer.from('p0'));
  });
  assert.equal(pongs.length, 50);
  assert.equal(pongs[49], 'pong:p49');
});

test('a Trailers-Only error reaches the client as such: status, message and metadata unchanged', async () => {
  const { client } = await setup();
  const r = await unary(client, 'Fail', Buffer.from('x'));
  assert.equal(r.err?.code, grpc.status.NOT_FOUND);
  assert.equal(r.err?.details, 'no such thing');
  assert.equal(r.err?.metadata.get('x-why')[0], 'because');
});

test("proxy errors are gRPC statuses: no route UNIMPLEMENTED, no healthy host UNAVAILABLE, grpc-timeout Ringside's DEADLINE_EXCEEDED", async () => {
  const dead = await deadAddress();
  const { client, addr } = await setup(
    [
      { match: { prefix: '/test.Echo/', headers: [{ name: 'x-tiny', value: '1' }] }, route: { cluster_name: 'tiny' } },
      { match: { prefix: '/test.Echo/' }, route: { cluster_name: 'echo' } },
      { match: { prefix: '/dead.Service/' }, route: { cluster_name: 'dead' } },
    ],
    (s) => [cluster('echo', [s.address]), cluster('dead', [dead]), cluster('tiny', [s.address], { circuit_breakers: [{ max_requests: 1 }] })],
  );
  const noRoute = await new Promise<grpc.ServiceError>((resolve) => {
    const c = new grpc.Client(addr, grpc.credentials.createInsecure());
    c.makeUnaryRequest('/other.Service/M', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('x'), (err) => {
      c.close();
      resolve(err!);
    });
  });
  assert.equal(noRoute.code, grpc.status.UNIMPLEMENTED);
  assert.match(noRoute.details, /no route/);
  const noHost = await new Promise<grpc.ServiceError>((resolve) => {
    const c = new grpc.Client(addr, grpc.credentials.createInsecure());
    c.makeUnaryRequest('/dead.Service/M', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('x'), (err) => {
      c.close();
      resolve(err!);
    });
  });
  assert.equal(noHost.code, grpc.status.UNAVAILABLE);

  // grpc-timeout without a client-side deadline: only Ringside can end this call.
  const session = http2.connect(`http://${addr}`);
  closers.push(() => session.close());
  const head = await new Promise<http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader>((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': '/test.Echo/Never', 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '150m' });
    req.on('response', resolve);
    req.on('error', reject);
    req.end(Buffer.from([0, 0, 0, 0, 1, 0x41]));
  });
  assert.equal(head[':status'], 200);
  assert.equal(head['grpc-status'], String(grpc.status.DEADLINE_EXCEEDED), 'Trailers-Only DEADLINE_EXCEEDED');
  assert.equal(head['x-ringside-error'], 'TIMEOUT');
  // A cluster that takes one request at a time: a second call while one is held overflows.
  const tiny = new grpc.Metadata();
  tiny.set('x-tiny', '1');
  const held = client.makeUnaryRequest('/test.Echo/Never', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('x'), tiny, () => {});
  await new Promise((r) => setTimeout(r, 100));
  const overflow = await new Promise<grpc.ServiceError>((resolve) =>
    client.makeUnaryRequest('/test.Echo/Unary', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('x'), tiny, (err) => resolve(err!)),
  );
  held.cancel();
  assert.equal(overflow.code, grpc.status.RESOURCE_EXHAUSTED);
  // And a client deadline: the call ends DEADLINE_EXCEEDED and the server sees it cancelled.
  const r = await unary(client, 'Never', Buffer.from('x'), { deadline: Date.now() + 200 });
  assert.equal(r.err?.code, grpc.status.DEADLINE_EXCEEDED);
});

test('a cancelled call reaches the server as a cancel; a killed server mid-stream fails the call, not the proxy', async () => {
  const { client, server } = await setup();
  await new Promise<void>((resolve) => {
    const call = client.ServerStream(Buffer.from('100000')) as grpc.ClientReadableStream<Buffer>;
    let n = 0;
    call.on('data', () => {
      if (++n === 10) call.cancel();
    });
    call.on('error', () => {});
    call.on('status', () => resolve());
  });
  const deadline = Date.now() + 2000;
  while (!server.cancelled.includes('ServerStream') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(server.cancelled.includes('ServerStream'), 'the server saw the cancel (RST_STREAM forwarded)');

  // A server killed while it streams: the client gets an error status and Ringside carries on.
  const other = await startEchoServer({ slowStream: true, streamCount: 10_000 });
  closers.push(() => other.server.forceShutdown());
  const plane = await startDataplane(grpcProxyConfig({ routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [other.address])] }));
  closers.push(() => plane.close());
  const c2 = new EchoClient(plane.addresses.get('ingress')!, grpc.credentials.createInsecure());
  closers.push(() => c2.close());
  const status = await new Promise<grpc.StatusObject>((resolve) => {
    const call = c2.ServerStream(Buffer.from('')) as grpc.ClientReadableStream<Buffer>;
    let n = 0;
    call.on('data', () => {
      if (++n === 5) other.server.forceShutdown();
    });
    call.on('error', () => {});
    call.on('status', resolve);
  });
  assert.notEqual(status.code, grpc.status.OK);
  assert.ok([grpc.status.UNAVAILABLE, grpc.status.INTERNAL].includes(status.code), `killed upstream → ${status.code} ${status.details}`);
  // The first plane still serves.
  const u = await unary(client, 'Unary', Buffer.from('after'));
  assert.equal(u.value?.toString(), 'echo:after');
});

test('an upstream that sends GOAWAY: calls in flight finish, the next one goes out on a new connection', async () => {
  let sessions = 0;
  const up = http2.createServer();
  const live = new Set<http2.ServerHttp2Session>();
  up.on('session', (s) => {
    sessions++;
    live.add(s);
    s.on('error', () => {});
  });
  up.on('stream', (stream) => {
    stream.on('data', () => {});
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 2, 0x6f, 0x6b]));
      // After answering, the server says it takes no more streams on this connection.
      stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR);
    });
  });
  up.listen(0, '127.0.0.1');
  await once(up, 'listening');
  closers.push(() => {
    for (const s of live) s.destroy();
    up.close();
  });
  const plane = await startDataplane(
    grpcProxyConfig({ routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [`127.0.0.1:${(up.address() as net.AddressInfo).port}`])] }),
  );
  closers.push(() => plane.close());
  const c = new grpc.Client(plane.addresses.get('ingress')!, grpc.credentials.createInsecure());
  closers.push(() => c.close());
  for (let i = 0; i < 3; i++) {
    const v = await new Promise<Buffer>((resolve, reject) =>
      c.makeUnaryRequest('/x.Y/Z', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('q'), (err, value) => (err ? reject(err) : resolve(value!))),
    );
    assert.equal(v.toString(), 'ok');
  }
  assert.equal(sessions, 3, 'each GOAWAY made Ringside dial a new upstream connection');
});

test('a stream the upstream refuses is retried on the route retry_policy; the caller never sees it', async () => {
  let streams = 0;
  const up = http2.createServer();
  const live = new Set<http2.ServerHttp2Session>();
  up.on('session', (s) => live.add(s));
  up.on('stream', (stream) => {
    stream.on('error', () => {});
    if (++streams === 1) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    stream.on('data', () => {});
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 2, 0x6f, 0x6b]));
    });
  });
  up.listen(0, '127.0.0.1');
  await once(up, 'listening');
  closers.push(() => {
    for (const s of live) s.destroy();
    up.close();
  });
  const plane = await startDataplane(
    grpcProxyConfig({
      routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c', retry_policy: { retry_on: true, num_retries: 1 } } }],
      clusters: [cluster('c', [`127.0.0.1:${(up.address() as net.AddressInfo).port}`])],
    }),
  );
  closers.push(() => plane.close());
  const c = new grpc.Client(plane.addresses.get('ingress')!, grpc.credentials.createInsecure());
  closers.push(() => c.close());
  const v = await new Promise<Buffer>((resolve, reject) =>
    c.makeUnaryRequest('/x.Y/Z', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('q'), (err, value) => (err ? reject(err) : resolve(value!))),
  );
  assert.equal(v.toString(), 'ok');
  assert.equal(streams, 2, 'refused once, answered on the retry');
});

test("retry_on's gRPC conditions retry a Trailers-Only status: unavailable is retried, a status not listed is not", async () => {
  let calls = 0;
  const app = new grpc.Server();
  app.addService(
    { Flaky: { path: '/x.Y/Flaky', requestStream: false, responseStream: false, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b } },
    {
      Flaky: (_c: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        ++calls % 2 === 1 ? cb({ code: grpc.status.UNAVAILABLE, details: 'busy' }) : cb(null, Buffer.from('ok')),
    },
  );
  const port = await new Promise<number>((resolve, reject) => app.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  closers.push(() => app.forceShutdown());
  const plane = await startDataplane(
    grpcProxyConfig({
      routes: [
        { match: { prefix: '/x.Y/', headers: [{ name: 'x-policy', value: 'unavailable' }] }, route: { cluster_name: 'c', retry_policy: { retry_on: 'unavailable,connect-failure', num_retries: 1 } } },
        { match: { prefix: '/x.Y/' }, route: { cluster_name: 'c', retry_policy: { retry_on: 'resource-exhausted', num_retries: 1 } } },
      ],
      clusters: [cluster('c', [`127.0.0.1:${port}`])],
    }),
  );
  closers.push(() => plane.close());
  const c = new grpc.Client(plane.addresses.get('ingress')!, grpc.credentials.createInsecure());
  closers.push(() => c.close());
  const call = (policy: string | undefined) =>
    new Promise<{ err: grpc.ServiceError | null; value?: Buffer }>((resolve) => {
      const md = new grpc.Metadata();
      if (policy !== undefined) md.set('x-policy', policy);
      c.makeUnaryRequest('/x.Y/Flaky', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('q'), md, (err, value) => resolve({ err, ...(value ? { value } : {}) }));
    });
  const retried = await call('unavailable');
  assert.equal(retried.err, null);
  assert.equal(retried.value!.toString(), 'ok');
  assert.equal(calls, 2, 'UNAVAILABLE once, answered on the retry');
  const notListed = await call(undefined);
  assert.equal(notListed.err?.code, grpc.status.UNAVAILABLE, 'resource-exhausted does not cover UNAVAILABLE: passed on as is');
  assert.equal(calls, 3);
});

test("a cluster's http2 block sets Ringside's SETTINGS toward its hosts, over ringside.http2", async () => {
  const seen: http2.Settings[] = [];
  const up = http2.createServer((_req, res) => res.end('ok'));
  const live = new Set<http2.ServerHttp2Session>();
  up.on('session', (s) => {
    live.add(s);
    s.once('remoteSettings', (st) => seen.push(st));
  });
  up.listen(0, '127.0.0.1');
  await once(up, 'listening');
  closers.push(() => {
    for (const s of live) s.destroy();
    up.close();
  });
  const plane = await startDataplane(
    grpcProxyConfig({
      routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }],
      clusters: [cluster('c', [`127.0.0.1:${(up.address() as net.AddressInfo).port}`], { http2: { max_concurrent_streams: 7, initial_stream_window_size: 12345 } })],
      ringside: { http2: { max_concurrent_streams: 50, max_frame_size: 32768 } },
    }),
  );
  closers.push(() => plane.close());
  const s = http2.connect(`http://${plane.addresses.get('ingress')!}`);
  closers.push(() => s.close());
  const req = s.request({ ':path': '/' });
  req.resume();
  await once(req, 'end');
  assert.equal(seen[0]?.maxConcurrentStreams, 7, "the cluster's value");
  assert.equal(seen[0]?.initialWindowSize, 12345);
  assert.equal(seen[0]?.maxFrameSize, 32768, "ringside.http2 where the cluster sets nothing");
});

test('curl --http2-prior-knowledge through the proxy to a plain HTTP/2 server', async () => {
  const up = http2.createServer((req, res) => {
    res.setHeader('x-path', req.url);
    res.end(`hello ${req.headers['x-forwarded-for']}`);
  });
  const live = new Set<http2.ServerHttp2Session>();
  up.on('session', (s) => live.add(s));
  up.listen(0, '127.0.0.1');
  await once(up, 'listening');
  closers.push(() => {
    for (const s of live) s.destroy();
    up.close();
  });
  const plane = await startDataplane(
    grpcProxyConfig({ routes: [{ match: { prefix: '/' }, route: { cluster_name: 'c' } }], clusters: [cluster('c', [`127.0.0.1:${(up.address() as net.AddressInfo).port}`])] }),
  );
  closers.push(() => plane.close());
  const out = await new Promise<string>((resolve, reject) =>
    execFile('curl', ['-s', '-i', '--http2-prior-knowledge', `http://${plane.addresses.get('ingress')}/some/path`], (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  assert.match(out, /^HTTP\/2 200/);
  assert.match(out, /x-path: \/some\/path/);
  assert.match(out, /hello 127\.0\.0\.1$/);
});
