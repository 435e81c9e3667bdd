import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytewise, decodeResponses, splits } from './collect.js';

test('a Content-Length response decodes and survives every split', () => {
  const msg = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';
  for (const pieces of [[msg], ...splits(msg), bytewise(msg)]) {
    const r = decodeResponses(['GET'], pieces);
    assert.equal(r.errors.length, 0);
    const m = r.messages[0]!;
    assert.equal(m.head.status, 200);
    assert.equal(m.head.reason, 'OK');
    assert.equal(m.body, 'hello');
    assert.equal(m.complete, true);
  }
});

test('a chunked response with trailers decodes', () => {
  const r = decodeResponses(['GET'], ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nGrpc-Status: 0\r\n\r\n']);
  assert.equal(r.messages[0]!.body, 'abc');
  assert.deepEqual(r.messages[0]!.trailers, { 'grpc-status': '0' });
});

test('a response without framing runs until the upstream closes', () => {
  const r = decodeResponses(['GET'], ['HTTP/1.1 200 OK\r\n\r\npart one, ', 'part two']);
  const m = r.messages[0]!;
  assert.equal(m.head.untilClose, true);
  assert.equal(m.head.keepAlive, false);
  assert.equal(m.complete, false);
  r.decoder.finish();
  assert.equal(m.complete, true);
  assert.equal(m.body, 'part one, part two');
});

test('HEAD, 204 and 304 responses have no body even with framing headers', () => {
  const r = decodeResponses(
    ['HEAD', 'GET', 'GET', 'GET'],
    [
      'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' +
        'HTTP/1.1 204 No Content\r\n\r\n' +
        'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    ],
  );
  assert.equal(r.errors.length, 0);
  assert.deepEqual(r.messages.map((m) => [m.head.status, m.endOfStream, m.body]), [
    [200, true, ''],
    [204, true, ''],
    [304, true, ''],
    [200, false, 'ok'],
  ]);
});

test('1xx responses are informational and do not consume the expected request', () => {
  const r = decodeResponses(['POST'], ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n']);
  assert.equal(r.informational.length, 1);
  assert.equal(r.informational[0]!.status, 100);
  assert.equal(r.messages.length, 1);
  assert.equal(r.messages[0]!.head.status, 201);
});

test('a response nobody asked for is a bad upstream response', () => {
  const r = decodeResponses([], ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']);
  assert.equal(r.errors[0]?.code, 'UPSTREAM_BAD_RESPONSE');
});

test('an upstream closing mid-body is reported', () => {
  const r = decodeResponses(['GET'], ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc']);
  r.decoder.finish();
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0]!.source, 'upstream');
});

test('HTTP/1.0 responses close unless keep-alive is asked for', () => {
  const r = decodeResponses(['GET', 'GET'], ['HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n']);
  assert.equal(r.messages[0]!.head.keepAlive, true);
  const c = decodeResponses(['GET'], ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n']);
  assert.equal(c.messages[0]!.head.keepAlive, false);
});

test('responses after a many-field head keep every field whatever the read boundaries', () => {
  const head = (n: number): string =>
    `HTTP/1.1 200 OK\r\nServer: t\r\nDate: d${n}\r\nContent-Type: text/plain\r\nETag: "e${n}"\r\nX-Long-Field-Name: ${'v'.repeat(20)}${n}\r\nContent-Length: 2\r\n\r\nok`;
  // The second and third heads follow a head with six fields: decoded from one string per section.
  const all = head(1) + head(2) + head(3);
  const expected = (n: number) => ({
    server: 't', date: `d${n}`, 'content-type': 'text/plain', etag: `"e${n}"`, 'x-long-field-name': `${'v'.repeat(20)}${n}`, 'content-length': '2',
  });
  for (const pieces of [[all], ...splits(all).filter((_, i) => i % 7 === 0)]) {
    const r = decodeResponses(['GET', 'GET', 'GET'], pieces);
    assert.equal(r.errors.length, 0);
    assert.equal(r.messages.length, 3);
    r.messages.forEach((m, i) => {
      assert.deepEqual((m.head.headers as unknown as { toObject(): object }).toObject(), expected(i + 1));
      assert.equal(m.body, 'ok');
    });
  }
});
