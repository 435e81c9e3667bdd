import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytewise, decodeRequests, decodeResponses } from './collect.js';

/** The first bytes of a TLS 1.2 ClientHello: record type 0x16, version 3.1, a length, no line break. */
const CLIENT_HELLO = Buffer.from('16030100f4010000f00303' + 'ab'.repeat(32) + '00', 'hex');

test('binary input without a line break is refused on its first read, not held to the line limit', () => {
  const r = decodeRequests([CLIENT_HELLO]);
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0]!.status, 400);
  assert.equal(r.messages.length, 0);
});

test('an unfinished request line is refused as soon as a byte cannot belong to one', () => {
  const cases: Record<string, string> = {
    'control byte in method': 'GE\x01',
    'two spaces after the method': 'GET  ',
    'control byte in target': 'GET /a\x00',
    'bad version prefix': 'GET / HTTQ',
    'letter in version digits': 'GET / HTTP/x',
    'byte after the version': 'GET / HTTP/1.1x',
    'byte after the final CR': 'GET / HTTP/1.1\rX',
    'CR then a byte on an empty line': '\rX',
  };
  for (const [name, bytes] of Object.entries(cases)) {
    for (const pieces of [[bytes], bytewise(bytes)]) {
      const r = decodeRequests(pieces);
      assert.equal(r.errors.length, 1, name);
      assert.equal(r.errors[0]!.status, 400, name);
    }
  }
});

test('a valid request delivered one byte at a time is still decoded (with leading empty lines)', () => {
  const msg = '\r\nPOST /p?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nokGET / HTTP/1.0\r\n\r\n';
  const r = decodeRequests(bytewise(msg));
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.messages.map((m) => [m.head.method, m.head.path, m.body, m.complete]), [
    ['POST', '/p?q=1', 'ok', true],
    ['GET', '/', '', true],
  ]);
});

test('an upstream 101 or an accepted CONNECT is a bad response: no tunnels are opened', () => {
  const up = decodeResponses(['GET'], ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nopaque']);
  assert.equal(up.messages.length, 0);
  assert.equal(up.errors.length, 1);
  assert.equal(up.errors[0]!.status, 502);
  assert.match(up.errors[0]!.message, /101/);
  const connect = decodeResponses(['CONNECT'], ['HTTP/1.1 200 Connection Established\r\n\r\nopaque']);
  assert.equal(connect.messages.length, 0);
  assert.equal(connect.errors[0]!.status, 502);
  const refused = decodeResponses(['CONNECT'], ['HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n']);
  assert.deepEqual(refused.errors, []);
  assert.equal(refused.messages[0]!.head.status, 403);
});
