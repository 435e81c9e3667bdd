/**
 * Health checks dial the way the pools do — the one dialer, the worker's run loop, the cluster's
 * tls_context — in a data plane assembled from config: an HTTP check of a TLS host is an HTTP/1.1
 * request over a verified TLS connection (the host stays in), and a TCP check of a host whose
 * certificate the cluster's CA does not vouch for fails in the handshake (the host is ejected), as a
 * pooled connection to it would.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ActorRunLoop } from '../../src/actor/run-loop.js';
import { startDataplane } from '../proxy/harness.js';
import { TestPki } from '../mesh/tls-certs.js';

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

const pki = new TestPki('ca');
const other = new TestPki('otherca');
const server = pki.issue('server', 'localhost', ['DNS:localhost', 'IP:127.0.0.1']);

test('HTTP checks go over the cluster TLS; a host whose certificate does not verify fails its TCP check', async () => {
  const seen: { path: string; encrypted: boolean; alpn: string | false | null; agent: string }[] = [];
  const https = createServer({ key: readFileSync(server.key), cert: readFileSync(server.cert), ALPNProtocols: ['http/1.1'] }, (req, res) => {
    const socket = req.socket as TLSSocket;
    seen.push({ path: req.url ?? '', encrypted: socket.encrypted === true, alpn: socket.alpnProtocol, agent: String(req.headers['user-agent']) });
    res.statusCode = 204;
    res.end();
  });
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => https.close(() => r())));
  const address = `127.0.0.1:${(https.address() as AddressInfo).port}`;
  const check = { timeout: 1000, interval: 20, healthy_threshold: 1, unhealthy_threshold: 1 };
  const runLoop = new ActorRunLoop();
  const dp = await startDataplane(
    {
      servers: [{ listeners: [] }],
      cluster_manager: {
        clusters: [
          {
            name: 'verified',
            hosts: [{ address }],
            tls_context: { status: true, ca_cert: pki.ca, server_name: 'localhost' },
            health_check: { protocol: 'http', ...check, check_config: { http_check_config: { path: '/healthz', codes: [204] } } },
          },
          {
            name: 'wrong_ca',
            hosts: [{ address }],
            tls_context: { status: true, ca_cert: other.ca, server_name: 'localhost' },
            health_check: { protocol: 'tcp', ...check },
          },
        ],
      },
    },
    { runLoop },
  );
  closers.push(() => dp.close());
  const healthOf = (name: string): boolean | undefined => dp.network.clusterStats!().find((c) => c.name === name)?.hosts[0]?.healthy;

  const end = Date.now() + 3000;
  while ((seen.length < 2 || healthOf('wrong_ca') !== false) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.ok(seen.length >= 2, `the HTTP check reached the TLS host (${seen.length} requests)`);
  assert.deepEqual(seen[0], { path: '/healthz', encrypted: true, alpn: 'http/1.1', agent: 'ringside-health-check' });
  assert.equal(healthOf('verified'), true, 'checks that pass keep the host in');
  assert.equal(healthOf('wrong_ca'), false, 'a handshake the cluster CA does not verify fails the check');
  // Probe connections are the dialer's connections, with their actors on the worker's run loop.
  assert.ok((runLoop.stats().kinds['connection.read']?.spawned ?? 0) >= seen.length);
});
