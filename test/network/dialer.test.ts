/**
 * The one dialer: TCP, Unix, an in-process listener over a RingPipe, and TLS over TCP all give the same
 * ConnectionImpl with read-loop and write-loop actors; failures come back as CONNECT_FAILED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorRunLoop } from '../../src/actor/run-loop.js';
import { dial, dialClient, parseDialTarget } from '../../src/network/connection/dialer.js';
import type { ConnectionImpl } from '../../src/network/connection/connection.js';
import { InProcessListener, InProcessListeners } from '../../src/network/listeners/inprocess.js';
import { CloseMode, FilterStatus } from '../../src/types/network.js';
import type { DialTarget } from '../../src/types/network.js';
import type { RingsideError } from '../../src/common/errors.js';
import { echoChain, settings, waitFor } from './helpers.js';

/** Dials with a read filter collecting text; resolves once connected. */
function connectCollecting(target: DialTarget, runLoop: ActorRunLoop, extra: Partial<Parameters<typeof dial>[0]> = {}): Promise<{ conn: ConnectionImpl; text: () => string }> {
  let got = '';
  return new Promise((resolve, reject) => {
    dialClient(
      {
        target,
        name: 'test',
        runLoop,
        connectTimeoutMs: 2000,
        ...extra,
        init: (_c, chain) =>
          chain.addReadFilter({
            initializeReadFilterCallbacks() {},
            onNewConnection: () => FilterStatus.Continue,
            onData: (d) => {
              got += d.toString();
              return FilterStatus.Stop;
            },
          }),
      },
      (err, conn) => (err !== undefined ? reject(err) : resolve({ conn: conn!, text: () => got })),
    );
  });
}

function echoServer(server: net.Server): net.Server {
  server.on('connection', (s) => {
    s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
    s.on('error', () => {});
  });
  return server;
}

test('parseDialTarget reads the config address grammar: host:port is TCP, a socket path Unix, a bare name in-process', () => {
  assert.deepEqual(parseDialTarget('127.0.0.1:8080'), { kind: 'tcp', host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseDialTarget('[::1]:9'), { kind: 'tcp', host: '::1', port: 9 });
  assert.deepEqual(parseDialTarget('/tmp/x.sock'), { kind: 'unix', path: '/tmp/x.sock' });
  assert.deepEqual(parseDialTarget('egress_runtime_http'), { kind: 'pipe', listener: 'egress_runtime_http' });
  // Relative and unix: socket paths are Unix sockets, as the loader reads a channel's listener.
  assert.deepEqual(parseDialTarget('./run/x.sock'), { kind: 'unix', path: './run/x.sock' });
  assert.deepEqual(parseDialTarget('unix:/tmp/y.sock'), { kind: 'unix', path: '/tmp/y.sock' });
  // What the loader refuses is not dialed as a listener name.
  assert.throws(() => parseDialTarget('name:notaport'), /not a dial target/);
  assert.throws(() => parseDialTarget('999.1.1.1:80'), /not an IPv4 address/);
});

test('TCP, Unix and in-process dials give connections with read and write actors; a refused port is CONNECT_FAILED', async () => {
  const runLoop = new ActorRunLoop();
  const tcp = echoServer(net.createServer()).listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  const dir = mkdtempSync(join(tmpdir(), 'ringside-dial-'));
  const path = join(dir, 's.sock');
  const unix = echoServer(net.createServer()).listen(path);
  await once(unix, 'listening');
  const table = new InProcessListeners();
  const pipeListener = new InProcessListener(settings('egress', [echoChain('pipe:')]), table, ['egress']);
  await pipeListener.start();
  try {
    const targets: [DialTarget, string][] = [
      [{ kind: 'tcp', host: '127.0.0.1', port: (tcp.address() as net.AddressInfo).port }, 'echo:'],
      [{ kind: 'unix', path }, 'echo:'],
      [{ kind: 'pipe', listener: 'egress' }, 'pipe:'],
    ];
    for (const [target, tag] of targets) {
      const { conn, text } = await connectCollecting(target, runLoop, { dialInProcess: (n) => table.dial(n) });
      conn.write(Buffer.from('a'));
      conn.write(Buffer.from('b')); // same tick: one batch
      await waitFor(() => text() === `${tag}ab`);
      // Sockets: one write per batch. A ring copies chunk by chunk and publishes once per tick itself.
      if (target.kind !== 'pipe') assert.equal(conn.writeCalls, 1, `${target.kind}: two writes in one tick left as one`);
      assert.equal(target.kind === 'pipe', conn.ringEndpoint !== null);
      conn.close(CloseMode.NoFlush);
    }
    const kinds = runLoop.stats().kinds;
    assert.equal(kinds['connection.read']?.spawned, 3);
    assert.equal(kinds['connection.write']?.spawned, 3);
    assert.ok(kinds['connection.read']!.messages >= 3);

    const closed = net.createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as net.AddressInfo).port;
    closed.close();
    await assert.rejects(connectCollecting({ kind: 'tcp', host: '127.0.0.1', port }, runLoop), (e: RingsideError) => e.code === 'CONNECT_FAILED' && e.retryable && /ECONNREFUSED/.test(e.message));
    await assert.rejects(connectCollecting({ kind: 'pipe', listener: 'missing' }, runLoop, { dialInProcess: (n) => table.dial(n) }), (e: RingsideError) => e.code === 'CONNECT_FAILED' && /missing/.test(e.message));
  } finally {
    tcp.close();
    unix.close();
    await pipeListener.stopAccepting();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TLS over TCP: verified against the CA, ALPN reported; an untrusted server is CONNECT_FAILED', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'k.pem'));
    const cert = readFileSync(join(dir, 'c.pem'));
    const server = tls.createServer({ key, cert, ALPNProtocols: ['h2', 'http/1.1'] }, (s) => {
      s.on('data', (d) => s.write(Buffer.concat([Buffer.from('tls:'), d])));
      s.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const runLoop = new ActorRunLoop();
    try {
      const { conn, text } = await connectCollecting({ kind: 'tcp', host: '127.0.0.1', port }, runLoop, { tls: { ca: cert, servername: 'localhost', ALPNProtocols: ['h2'] } });
      assert.equal(conn.alpnProtocol, 'h2');
      conn.write(Buffer.from('hi'));
      await waitFor(() => text() === 'tls:hi');
      conn.close(CloseMode.NoFlush);
      // No CA given: the self-signed certificate is refused before any byte is exchanged.
      await assert.rejects(connectCollecting({ kind: 'tcp', host: '127.0.0.1', port }, runLoop, { tls: { servername: 'localhost' } }), (e: RingsideError) => e.code === 'CONNECT_FAILED');
    } finally {
      server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
