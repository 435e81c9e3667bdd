/**
 * TLS and mutual TLS on a real sidecar (one worker thread, port 0), with certificates openssl makes
 * here and real clients: curl (--cacert, --cert), grpc-js (credentials.createSsl, ALPN h2), Node's
 * tls and https. Upstream mTLS toward a Node https server that requires a client certificate; SNI
 * picks the filter chain; a certificate rewritten on disk is served to new handshakes while open
 * connections keep working; refused handshakes are counted by reason and logged once per peer.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startChild, type Child } from '../supervisor/helpers.js';
import { sample } from '../observability/helpers.js';
import { TestPki } from './tls-certs.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;

const pki = new TestPki('ca');
const other = new TestPki('otherca');
const server = pki.issue('server', 'localhost', ['DNS:localhost', 'IP:127.0.0.1']);
const sniA = pki.issue('a', 'a.test', ['DNS:a.test']);
const client = pki.issue('client', 'good-client');
const expired = pki.issue('expired', 'old-client', [], -1);
const stranger = other.issue('stranger', 'stranger');
const sidecarClient = pki.issue('sidecar', 'ringside-sidecar');

let child: Child;
let mtlsPort = 0;
let sniPort = 0;
let admin = '';
const closers: (() => Promise<void>)[] = [];

function listen(s: net.Server): Promise<number> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
}

/** A gRPC service without a .proto: the request bytes come back prefixed. */
const echoService: grpc.ServiceDefinition = {
  echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

const tlsCtx = (extra: Record<string, unknown>): Record<string, unknown> => ({ status: true, cert_chain: server.cert, private_key: server.key, ...extra });
const proxy = (router: string): Record<string, unknown> => ({ type: 'proxy', config: { downstream_protocol: 'Auto', upstream_protocol: 'Http1', router_config_name: router } });
const direct = (name: string, body: string): Record<string, unknown> => ({
  router_config_name: name,
  virtual_hosts: [{ name, domains: ['*'], routers: [{ match: { prefix: '/' }, direct_response: { status: 200, body } }] }],
});

before(async () => {
  const plain: Server = createServer((req, res) => {
    req.resume();
    res.end(`plain:${req.url}`);
  });
  const plainPort = await listen(plain);
  const secure = createHttpsServer({ key: readFileSync(server.key), cert: readFileSync(server.cert), ca: readFileSync(pki.ca), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    req.resume();
    const peer = (req.socket as tls.TLSSocket).getPeerCertificate();
    res.end(`secure:${peer.subject?.CN ?? 'none'}`);
  });
  const securePort = await listen(secure);
  const grpcServer = new grpc.Server();
  grpcServer.addService(echoService, { echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.concat([Buffer.from('echo:'), call.request])) });
  const grpcPort = await new Promise<number>((r, j) => grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  closers.push(
    () => new Promise((r) => plain.close(() => r())),
    () => new Promise((r) => secure.close(() => r())),
    () => new Promise((r) => grpcServer.tryShutdown(() => r())),
  );
  const config = {
    servers: [
      {
        routers: [
          {
            router_config_name: 'r',
            virtual_hosts: [
              {
                name: 'vh',
                domains: ['*'],
                routers: [
                  { match: { prefix: '/test.Echo/' }, route: { cluster_name: 'grpc', upstream_protocol: 'Http2' } },
                  { match: { prefix: '/up-tls' }, route: { cluster_name: 'secure' } },
                  { match: { prefix: '/' }, route: { cluster_name: 'plain' } },
                ],
              },
            ],
          },
          direct('ra', 'chain-a'),
          direct('rb', 'chain-b'),
        ],
        listeners: [
          {
            name: 'mtls',
            address: '127.0.0.1:0',
            filter_chains: [{ tls_context: tlsCtx({ ca_cert: pki.ca, verify_client: true, require_client_cert: true, alpn: 'h2,http/1.1' }), filters: [proxy('r')] }],
          },
          {
            name: 'sni',
            address: '127.0.0.1:0',
            filter_chains: [
              { filter_chain_match: { server_names: ['a.test'] }, tls_context: { status: true, cert_chain: sniA.cert, private_key: sniA.key }, filters: [proxy('ra')] },
              { tls_context_set: [tlsCtx({})], filters: [proxy('rb')] },
            ],
          },
        ],
      },
    ],
    cluster_manager: {
      clusters: [
        { name: 'plain', hosts: [{ address: `127.0.0.1:${plainPort}` }] },
        { name: 'grpc', hosts: [{ address: `127.0.0.1:${grpcPort}` }] },
        {
          name: 'secure',
          hosts: [{ address: `127.0.0.1:${securePort}` }],
          tls_context: { status: true, ca_cert: pki.ca, cert_chain: sidecarClient.cert, private_key: sidecarClient.key, server_name: 'localhost' },
        },
      ],
    },
    ringside: { admin: { address: '127.0.0.1:0' }, drain_timeout: 300, tls: { handshake_timeout: '400ms', certificate_check_interval: '100ms' } },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-tls-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(config));
  child = startChild(main, ['start', '-c', file, '--workers', '1']);
  const ready = await child.waitStdout(/^ringside ready:/, 20_000);
  mtlsPort = Number(/mtls@[^,\s]+:(\d+)/.exec(ready)![1]);
  sniPort = Number(/sni@[^,\s]+:(\d+)/.exec(ready)![1]);
  admin = /admin listening on ([^\s"]+)/.exec(child.stderr())![1]!;
});

after(async () => {
  child?.kill();
  await child?.exited;
  for (const c of closers) await c();
});

function curl(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '5', ...args], (err, stdout, stderr) => resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), out: stdout, err: stderr }));
  });
}

async function metrics(): Promise<string> {
  return (await fetch(`http://${admin}/metrics`)).text();
}

const handshakes = (text: string, name: string, result: string): number => sample(text, `ringside_tls_handshakes_total{side="downstream",name="${name}",result="${result}"}`) ?? 0;

/** A TLS handshake with Node's client; resolves with what the server sends after a request, or how it ended. */
function tryTls(port: number, opts: tls.ConnectionOptions): Promise<{ secure: boolean; reply: string; error?: string; peerCn?: string; serial?: string }> {
  return new Promise((resolve) => {
    let secure = false;
    let reply = '';
    let peerCn: string | undefined;
    let serial: string | undefined;
    const s = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(pki.ca), ...opts }, () => {
      secure = true;
      const peer = s.getPeerCertificate();
      peerCn = String(peer.subject?.CN);
      serial = peer.serialNumber;
      s.write('GET /t HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    });
    s.setEncoding('utf8');
    s.on('data', (d: string) => (reply += d));
    s.on('error', (e: NodeJS.ErrnoException) => resolve({ secure, reply, error: e.code ?? e.message }));
    s.on('close', () => resolve({ secure, reply, ...(peerCn !== undefined ? { peerCn } : {}), ...(serial !== undefined ? { serial } : {}) }));
  });
}

test('curl with the CA and a client certificate reaches the upstream over mTLS; ALPN picks HTTP/2 or HTTP/1.1', async () => {
  const base = ['--cacert', pki.ca, '--cert', client.cert, '--key', client.key, '-w', ' %{http_version}'];
  const h2 = await curl([...base, '--http2', `https://localhost:${mtlsPort}/hello`]);
  assert.equal(h2.code, 0, h2.err);
  assert.equal(h2.out, 'plain:/hello 2');
  const h1 = await curl([...base, '--http1.1', `https://localhost:${mtlsPort}/again`]);
  assert.equal(h1.out, 'plain:/again 1.1');
});

test('a client without a certificate, with an expired one or one from another CA is refused and counted; open connections carry on', async () => {
  // A keep-alive connection made before the refusals…
  const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: readFileSync(pki.ca), cert: readFileSync(client.cert), key: readFileSync(client.key) });
  const get = (path: string): Promise<{ body: string; reused: boolean }> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest({ host: 'localhost', port: mtlsPort, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ body, reused: req.reusedSocket }));
      });
      req.on('error', reject);
      req.end();
    });
  assert.equal((await get('/before')).body, 'plain:/before');

  const none = await curl(['--cacert', pki.ca, `https://localhost:${mtlsPort}/x`]);
  assert.notEqual(none.code, 0, 'curl without a client certificate must fail');
  const old = await tryTls(mtlsPort, { servername: 'localhost', cert: readFileSync(expired.cert), key: readFileSync(expired.key) });
  assert.equal(old.reply, '', 'an expired client certificate gets no answer');
  const foreign = await tryTls(mtlsPort, { servername: 'localhost', cert: readFileSync(stranger.cert), key: readFileSync(stranger.key) });
  assert.equal(foreign.reply, '', 'a certificate from another CA gets no answer');

  // …is untouched by them.
  const again = await get('/after');
  assert.deepEqual(again, { body: 'plain:/after', reused: true });
  agent.destroy();

  const m = await metrics();
  assert.ok(handshakes(m, 'mtls', 'NO_CLIENT_CERTIFICATE') >= 1, m);
  assert.equal(handshakes(m, 'mtls', 'CERT_HAS_EXPIRED'), 1);
  assert.ok(handshakes(m, 'mtls', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY') + handshakes(m, 'mtls', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE') === 1, m);
  assert.ok(handshakes(m, 'mtls', 'ok') >= 3);
  // Three refusals of one peer address: one log line.
  assert.equal(child.stderr().split('\n').filter((l) => /TLS handshake with 127\.0\.0\.1 refused/.test(l)).length, 1, child.stderr());
});

test('grpc-js with credentials.createSsl calls through the TLS listener (ALPN h2) to an h2c upstream', async () => {
  const Client = grpc.makeGenericClientConstructor(echoService, 'Echo');
  const creds = grpc.credentials.createSsl(readFileSync(pki.ca), readFileSync(client.key), readFileSync(client.cert));
  const c = new Client(`localhost:${mtlsPort}`, creds) as unknown as { echo(req: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void): void; close(): void };
  const reply = await new Promise<Buffer>((resolve, reject) => c.echo(Buffer.from('hi'), (e, r) => (e ? reject(e) : resolve(r!))));
  c.close();
  assert.equal(reply.toString(), 'echo:hi');
});

test('a cluster with tls_context dials its host with mutual TLS and checks server_name', async () => {
  const r = await curl(['--cacert', pki.ca, '--cert', client.cert, '--key', client.key, `https://localhost:${mtlsPort}/up-tls`]);
  assert.equal(r.out, 'secure:ringside-sidecar');
  const m = await metrics();
  assert.ok((sample(m, 'ringside_tls_handshakes_total{side="upstream",name="secure",result="ok"}') ?? 0) >= 1, m);
});

test('a client that never finishes its handshake is closed at handshake_timeout and counted', async () => {
  const started = Date.now();
  const s = net.connect(mtlsPort, '127.0.0.1');
  s.on('error', () => {});
  await new Promise((r) => s.on('close', r));
  const took = Date.now() - started;
  assert.ok(took >= 300 && took < 3000, `closed after ${took} ms`);
  assert.equal(handshakes(await metrics(), 'mtls', 'ERR_TLS_HANDSHAKE_TIMEOUT'), 1);
});

test('SNI picks the filter chain and its certificate; a rewritten certificate file is served to new handshakes only', async () => {
  const a = await tryTls(sniPort, { servername: 'a.test' });
  assert.equal(a.peerCn, 'a.test');
  assert.match(a.reply, /chain-a$/);
  const b = await tryTls(sniPort, { servername: 'localhost' });
  assert.equal(b.peerCn, 'localhost');
  assert.match(b.reply, /chain-b$/);

  // A keep-alive connection on the old certificate…
  const held = tls.connect({ host: '127.0.0.1', port: sniPort, servername: 'a.test', ca: readFileSync(pki.ca) });
  await new Promise((r) => held.once('secureConnect', r));
  const oldSerial = held.getPeerCertificate().serialNumber;
  assert.equal(oldSerial, a.serial);
  pki.issue('a', 'a.test', ['DNS:a.test'], 1, true);
  let fresh = a;
  for (let i = 0; i < 50 && fresh.serial === oldSerial; i++) {
    await new Promise((r) => setTimeout(r, 100));
    fresh = await tryTls(sniPort, { servername: 'a.test' });
  }
  assert.notEqual(fresh.serial, oldSerial, 'new handshakes see the new certificate');
  assert.match(fresh.reply, /chain-a$/);
  // …still answers.
  held.setEncoding('utf8');
  let reply = '';
  held.on('data', (d: string) => (reply += d));
  held.write('GET / HTTP/1.1\r\nhost: a.test\r\nconnection: close\r\n\r\n');
  await new Promise((r) => held.on('close', r));
  assert.match(reply, /^HTTP\/1\.1 200[\s\S]*chain-a$/);
});
