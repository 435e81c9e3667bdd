import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytewise, decodeRequests, splits } from './collect.js';

const get = 'GET /users/42?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Trace-ID: abc\r\nAccept: */*\r\n\r\n';
const post = 'POST /v1/invoke HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nContent-Type: application/json\r\n\r\n{"id":1234}';
const chunked =
  'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '5;name=val\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 99\r\nX-Other: y\r\n\r\n';

test('a GET head decodes with names as received and case-insensitive lookup', () => {
  const r = decodeRequests([get]);
  assert.equal(r.errors.length, 0);
  assert.equal(r.messages.length, 1);
  const m = r.messages[0]!;
  assert.equal(m.head.method, 'GET');
  assert.equal(m.head.path, '/users/42?x=1');
  assert.equal(m.head.versionMinor, 1);
  assert.equal(m.head.keepAlive, true);
  assert.equal(m.endOfStream, true);
  assert.equal(m.complete, true);
  assert.deepEqual(m.head.headers.raw, ['Host', 'example.com', 'X-Trace-ID', 'abc', 'Accept', '*/*']);
  assert.equal(m.head.headers.get('x-trace-id'), 'abc');
  assert.equal(m.head.headers.get('HOST'), 'example.com');
  assert.equal(m.head.requestId, 1);
  assert.equal(r.decoder.idle, true);
});

test('a Content-Length body is delivered and its last piece is flagged', () => {
  const r = decodeRequests([post]);
  const m = r.messages[0]!;
  assert.equal(m.head.contentLength, 11);
  assert.equal(m.endOfStream, false);
  assert.equal(m.body, '{"id":1234}');
  assert.deepEqual(m.lastFlags, [true]);
  assert.equal(m.complete, true);
});

test('a chunked body with extensions and trailers is de-chunked and the trailers reported', () => {
  const r = decodeRequests([chunked]);
  assert.equal(r.errors.length, 0);
  const m = r.messages[0]!;
  assert.equal(m.head.chunked, true);
  assert.equal(m.body, 'hello world');
  assert.deepEqual(m.trailers, { 'x-checksum': '99', 'x-other': 'y' });
});

test('every two-piece split and a byte-at-a-time feed decode to the same result', () => {
  for (const msg of [get, post, chunked]) {
    const whole = decodeRequests([msg]).messages[0]!;
    const cuts: (string[] | [string, string])[] = [...splits(msg), bytewise(msg)];
    for (const pieces of cuts) {
      const r = decodeRequests(pieces);
      assert.equal(r.errors.length, 0, `split ${pieces[0]!.length}: ${r.errors[0]?.message}`);
      assert.equal(r.messages.length, 1);
      const m = r.messages[0]!;
      assert.deepEqual(m.head.headers.raw, whole.head.headers.raw);
      assert.equal(m.head.path, whole.head.path);
      assert.equal(m.body, whole.body);
      assert.deepEqual(m.trailers, whole.trailers);
      assert.equal(m.complete, true);
    }
  }
});

test('pipelined requests in one read decode in order with increasing ids', () => {
  const r = decodeRequests([get + post + chunked + get]);
  assert.equal(r.errors.length, 0);
  assert.deepEqual(r.messages.map((m) => [m.head.method, m.head.requestId, m.body]), [
    ['GET', 1, ''],
    ['POST', 2, '{"id":1234}'],
    ['POST', 3, 'hello world'],
    ['GET', 4, ''],
  ]);
});

test('pauseAfterMessage holds the next pipelined request until resume()', () => {
  const r = decodeRequests([get + post], { pauseAfterMessage: true });
  assert.equal(r.messages.length, 1);
  assert.equal(r.decoder.paused, true);
  r.decoder.resume();
  assert.equal(r.messages.length, 2);
  assert.equal(r.messages[1]!.body, '{"id":1234}', 'held bytes were copied, not kept as a view');
});

test('HTTP/1.0 closes by default and keeps alive only when asked', () => {
  assert.equal(decodeRequests(['GET / HTTP/1.0\r\n\r\n']).messages[0]!.head.keepAlive, false);
  assert.equal(decodeRequests(['GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n']).messages[0]!.head.keepAlive, true);
  assert.equal(decodeRequests(['GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n']).messages[0]!.head.keepAlive, false);
});

test('Expect: 100-continue is reported on HTTP/1.1 requests', () => {
  const r = decodeRequests(['PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n']);
  assert.equal(r.messages[0]!.head.expectContinue, true);
  assert.equal(r.messages[0]!.complete, false);
});

test('empty lines before a request line are tolerated', () => {
  const r = decodeRequests(['\r\n\r\n' + get]);
  assert.equal(r.errors.length, 0);
  assert.equal(r.messages.length, 1);
});

test('a truncated request reported at finish() is an error; an idle connection is not', () => {
  const cut = decodeRequests([post.slice(0, -3)]);
  cut.decoder.finish();
  assert.equal(cut.errors.length, 1);
  const idle = decodeRequests([get]);
  idle.decoder.finish();
  assert.equal(idle.errors.length, 0);
});

test('header values keep their bytes (obs-text) and lose surrounding whitespace', () => {
  const r = decodeRequests([Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nX-Name: \t caf\xe9 \t\r\n\r\n', 'latin1')]);
  assert.equal(r.messages[0]!.head.headers.get('x-name'), 'caf\xe9');
});
