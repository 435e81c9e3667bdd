import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { status as Status } from '@grpc/grpc-js';
import { RuntimeHost } from '../../src/runtime/index.js';
import { SEED_BODY, client, grpcConfig, listenWithFilter, makeEnv, recordingUpstream, seedRequest, startRuntime } from './helpers.js';

const INJECTED_ID = 'svc\r\nX-Injected: yes\r\n\r\nGET /second HTTP/1.1\r\nHost: x';

/** An upstream that answers every request with its own URL, so a misdelivered answer shows. */
function urlEcho() {
  return recordingUpstream((r) => ({ status: 200, body: r.url }));
}

test('a CRLF in the InvokeService id is refused with INVALID_ARGUMENT; nothing reaches the upstream and the next caller gets its own answer', async () => {
  const up = await urlEcho();
  // One pooled connection: an injected second request would answer the next caller.
  const rt = await startRuntime(grpcConfig(up.address, { size: 1, before: [] }));
  const c = client(rt.grpc.address);
  try {
    await assert.rejects(c.call('InvokeService', seedRequest(INJECTED_ID)), (e: { code: number; details: string }) => {
      assert.equal(e.code, Status.INVALID_ARGUMENT);
      assert.match(e.details, /"id"/);
      return true;
    });
    assert.equal(up.seen.length, 0);
    const ok = await c.call('InvokeService', { id: 'svc', message: { method: 'mine', data: { value: Buffer.from('x') }, http_extension: { verb: 3 } } });
    assert.equal(Buffer.from(ok.data.value).toString(), '/mine');
    assert.equal(up.seen.length, 1);
    assert.equal(up.seen[0]!.headers['x-injected'], undefined);
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});

test('a CRLF in the content type, the method or the query string cannot add a header line', async () => {
  const up = await urlEcho();
  const rt = await startRuntime(grpcConfig(up.address, { size: 1, before: [] }));
  const c = client(rt.grpc.address);
  try {
    const ct = { id: 'svc', message: { method: 'm', content_type: 'text/plain\r\nX-Injected: yes', data: { value: Buffer.from('x') }, http_extension: { verb: 3 } } };
    await assert.rejects(c.call('InvokeService', ct), (e: { code: number }) => e.code === Status.INVALID_ARGUMENT);
    assert.equal(up.seen.length, 0);
    // In the request target the bytes are percent-encoded, never raw.
    const m = { id: 'svc', message: { method: 'm\r\nX-Injected: yes', data: { value: Buffer.from('x') }, http_extension: { verb: 3, querystring: 'a=1\r\nX-Other: yes' } } };
    const res = await c.call('InvokeService', m);
    assert.equal(Buffer.from(res.data.value).toString(), '/m%0D%0AX-Injected:%20yes?a=1%0D%0AX-Other:%20yes');
    assert.equal(up.seen.length, 1);
    assert.equal(up.seen[0]!.headers['x-injected'], undefined);
    assert.equal(up.seen[0]!.headers['x-other'], undefined);
  } finally {
    c.close();
    await rt.close();
    await up.close();
  }
});

function post(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(SEED_BODY);
  });
}

test('Dapr HTTP: a percent-encoded CRLF in the app id and a malformed percent escape answer 400; the server keeps serving', async () => {
  const up = await urlEcho();
  const host = new RuntimeHost(makeEnv());
  const grpc = await listenWithFilter(host.grpcFilterFactory, grpcConfig(up.address, { size: 1, before: [] }));
  const http = await listenWithFilter(host.daprHttpFilterFactory, { server_name: 'runtime' }, 'dapr_http');
  try {
    const injected = await post(http.port, '/v1.0/invoke/svc%0d%0aX-Injected:%20yes/method/x');
    assert.equal(injected.status, 400);
    assert.equal(JSON.parse(injected.body).errorCode, 'ERR_DIRECT_INVOKE');
    // decodeURIComponent throws on %ZZ: it must be the caller's 400, never a crashed worker.
    for (let i = 0; i < 5; i++) {
      const bad = await post(http.port, '/v1.0/invoke/%ZZ/method/x');
      assert.equal(bad.status, 400);
      assert.equal(JSON.parse(bad.body).errorCode, 'ERR_MALFORMED_REQUEST');
    }
    assert.equal(up.seen.length, 0);
    const ok = await post(http.port, '/v1.0/invoke/svc/method/fine');
    assert.equal(ok.status, 200);
    assert.equal(ok.body, '/fine');
  } finally {
    await host.close(100);
    await Promise.all([grpc.close(), http.close(), up.close()]);
  }
});
