/**
 * Bad input on the Dapr HTTP port answers with a status and a Dapr-shaped error instead of a dropped
 * socket; nothing reaches the app and other connections carry on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { behavingApp, httpCall, startDaprSidecar } from './helpers.js';

/** Writes raw bytes and collects everything the server sends until it closes. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c) => chunks.push(c));
    s.on('close', () => resolve(Buffer.concat(chunks).toString()));
    s.on('error', reject);
    s.write(bytes);
  });
}

test('12: a bad method answers 400, an oversized head 431, a 20 KB URL 414 (the request-line limit), each with a Dapr error body', async () => {
  const app = await behavingApp();
  const sc = await startDaprSidecar(app.address);
  try {
    const badMethod = await raw(sc.daprHttp.port, 'G\x01T /v1.0/invoke/app/method/x HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.match(badMethod, /^HTTP\/1\.1 400 /);
    assert.equal(JSON.parse(badMethod.slice(badMethod.indexOf('\r\n\r\n') + 4)).errorCode, 'ERR_MALFORMED_REQUEST');

    const longUrl = await raw(sc.daprHttp.port, `GET /v1.0/invoke/app/method/${'a'.repeat(20 * 1024)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    assert.match(longUrl, /^HTTP\/1\.1 414 /);
    assert.match(longUrl, /"errorCode":"ERR_MALFORMED_REQUEST"/);

    const bigHead = await raw(sc.daprHttp.port, `GET /v1.0/healthz HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(70 * 1024)}\r\n\r\n`);
    assert.match(bigHead, /^HTTP\/1\.1 431 /);

    const noMethodPart = await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/app/method/', { body: '{}' });
    assert.equal(noMethodPart.status, 400);
    assert.equal(JSON.parse(noMethodPart.body).errorCode, 'ERR_DIRECT_INVOKE');
    assert.equal(app.seen.length, 0, 'nothing reached the app');
    const ok = await httpCall(sc.daprHttp.port, 'POST', '/v1.0/invoke/app/method/fine', { body: '{}' });
    assert.equal(ok.status, 200);
  } finally {
    await sc.close();
    await app.close();
  }
});
