import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { DaprHttpApi } from '../../src/runtime/dapr/http-api.js';
import { DaprMetadataStore } from '../../src/runtime/dapr/metadata.js';
import type { RpcRequest, RpcResponse } from '../../src/types/runtime.js';
import { makeEnv } from './helpers.js';

/** A Dapr HTTP API fed by a plain TCP listener, as the dapr_http filter feeds it accepted sockets. */
async function serve(timeouts: { headersMs: number; idleMs: number }): Promise<{ port: number; close(): void }> {
  const env = makeEnv();
  const ctx = { settings: env.dapr, metadata: new DaprMetadataStore(env.dapr, 0), invoker: () => undefined, run: (_app: string, r: RpcRequest, invoke: (r: RpcRequest) => Promise<RpcResponse>) => invoke(r), requestShutdown: () => undefined };
  const api = new DaprHttpApi(ctx, { maxBodyBytes: 1024 * 1024, maxHeaderBytes: 64 * 1024, maxRequestLineBytes: 8 * 1024 }, timeouts);
  const server = net.createServer((s) => api.inject(s)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close() {
      api.close();
      server.close();
    },
  };
}

test('the Dapr HTTP port cuts off a head sent one byte at a time', async () => {
  const s = await serve({ headersMs: 400, idleMs: 0 });
  const c = net.connect(s.port, '127.0.0.1');
  await once(c, 'connect');
  let text = '';
  c.setEncoding('latin1');
  c.on('data', (d: string) => (text += d));
  c.on('error', () => {});
  const started = Date.now();
  c.write('GET /v1.0/healthz HTTP/1.1\r\n');
  const drip = setInterval(() => c.writable && c.write('X'), 50);
  const closed = await Promise.race([once(c, 'close').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 4000))]);
  clearInterval(drip);
  c.destroy();
  s.close();
  assert.equal(closed, true, 'the dripping client was disconnected');
  assert.ok(Date.now() - started >= 350);
  // What is written before the close is the clientError handler's business (408 or nothing).
  assert.ok(text === '' || /^HTTP\/1\.1 408/.test(text), text);
});

test('the Dapr HTTP port still answers a normal request with the bounds in place', async () => {
  const s = await serve({ headersMs: 400, idleMs: 1000 });
  const c = net.connect(s.port, '127.0.0.1');
  await once(c, 'connect');
  let text = '';
  c.setEncoding('latin1');
  c.on('data', (d: string) => (text += d));
  c.write('GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  while (!text.includes('\r\n\r\n')) await new Promise((r) => setTimeout(r, 5));
  c.destroy();
  s.close();
  assert.match(text, /^HTTP\/1\.1 204/);
});
