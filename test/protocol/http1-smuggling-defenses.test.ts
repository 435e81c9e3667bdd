import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRequests, decodeResponses } from './collect.js';

const H = 'Host: a\r\n';
/** Each case must end in BAD_REQUEST (status 400) and deliver no complete message. */
const badRequests: Record<string, string> = {
  'Content-Length with Transfer-Encoding': `POST / HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  'Transfer-Encoding with Content-Length': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`,
  'duplicate Content-Length (same value)': `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`,
  'differing Content-Length': `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
  'Content-Length list': `POST / HTTP/1.1\r\n${H}Content-Length: 3, 3\r\n\r\nabc`,
  'signed Content-Length': `POST / HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\nabc`,
  'hex Content-Length': `POST / HTTP/1.1\r\n${H}Content-Length: 0x3\r\n\r\nabc`,
  'empty Content-Length': `POST / HTTP/1.1\r\n${H}Content-Length: \r\n\r\n`,
  'overflowing Content-Length': `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`,
  'Transfer-Encoding gzip only': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`,
  'chunked not final': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`,
  'chunked twice': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  'chunked with a suffix': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunkedx\r\n\r\n`,
  // String#trim would strip NBSP (obs-text) and read this as chunked; no other parser would.
  'chunked with NBSP around it': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \xa0chunked\xa0\r\n\r\n0\r\n\r\n`,
  'Transfer-Encoding in HTTP/1.0': `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  'non-hex chunk size': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n`,
  'empty chunk size': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n\r\n`,
  'negative chunk size': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-1\r\n`,
  'chunk size with 0x prefix': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`,
  'chunk size with a space': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`,
  'overflowing chunk size': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n`,
  'chunk data longer than its size': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`,
  'bare LF after chunk size': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`,
  'control byte in chunk extension': `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=\x01\r\nhello\r\n0\r\n\r\n`,
  'obsolete line folding': `GET / HTTP/1.1\r\n${H}X-A: one\r\n two\r\n\r\n`,
  'folded first header': `GET / HTTP/1.1\r\n Host: a\r\n\r\n`,
  'bare LF ending a header': `GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n`,
  'bare LF ending the request line': `GET / HTTP/1.1\n${H}\r\n`,
  'bare LF ending the head': `GET / HTTP/1.1\r\n${H}\n`,
  'bare CR in a header value': `GET / HTTP/1.1\r\n${H}X-A: b\rc\r\n\r\n`,
  'space before the colon': `GET / HTTP/1.1\r\n${H}Content-Length : 3\r\n\r\nabc`,
  'invalid char in header name': `GET / HTTP/1.1\r\n${H}X(A): b\r\n\r\n`,
  'empty header name': `GET / HTTP/1.1\r\n${H}: b\r\n\r\n`,
  'header without a colon': `GET / HTTP/1.1\r\n${H}X-A b\r\n\r\n`,
  'NUL in header value': `GET / HTTP/1.1\r\n${H}X-A: b\x00c\r\n\r\n`,
  'DEL in header value': `GET / HTTP/1.1\r\n${H}X-A: b\x7fc\r\n\r\n`,
  'escape char in header value': `GET / HTTP/1.1\r\n${H}X-A: \x1b[31m\r\n\r\n`,
  'invalid char in method': `G@T / HTTP/1.1\r\n${H}\r\n`,
  'empty method': ` / HTTP/1.1\r\n${H}\r\n`,
  'control byte in target': `GET /a\x01b HTTP/1.1\r\n${H}\r\n`,
  'two spaces after method': `GET  / HTTP/1.1\r\n${H}\r\n`,
  'lower-case version': `GET / http/1.1\r\n${H}\r\n`,
  'missing version': `GET /\r\n${H}\r\n`,
  'missing Host on HTTP/1.1': `GET / HTTP/1.1\r\n\r\n`,
  'repeated Host': `GET / HTTP/1.1\r\n${H}Host: b\r\n\r\n`,
};

for (const [name, bytes] of Object.entries(badRequests)) {
  test(`request rejected: ${name}`, () => {
    const r = decodeRequests([bytes]);
    assert.equal(r.errors.length, 1, 'exactly one error');
    const err = r.errors[0]!;
    assert.equal(err.code, 'BAD_REQUEST');
    assert.equal(err.source, 'downstream');
    assert.equal(err.status, 400);
    assert.equal(r.messages.filter((m) => m.complete).length, 0, 'no message completes');
  });
}

test('the decoder is dead after an error: later bytes produce nothing', () => {
  const r = decodeRequests([badRequests['obsolete line folding']!, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n']);
  assert.equal(r.errors.length, 1);
  assert.equal(r.messages.length, 0);
});

test('an HTTP/2 request line is answered 505', () => {
  const r = decodeRequests(['GET / HTTP/2.0\r\nHost: a\r\n\r\n']);
  assert.equal(r.errors[0]?.status, 505);
});

test('responses with both Content-Length and Transfer-Encoding are refused as bad upstream bytes', () => {
  const r = decodeResponses(['GET'], ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n']);
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0]!.code, 'UPSTREAM_BAD_RESPONSE');
  assert.equal(r.errors[0]!.source, 'upstream');
  assert.equal(r.errors[0]!.status, 502);
});

test('responses with repeated Content-Length or obs-fold are refused', () => {
  for (const bytes of [
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc',
    'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n',
    'HTTP/1.1 2000 OK\r\n\r\n',
  ]) {
    const r = decodeResponses(['GET'], [bytes]);
    assert.equal(r.errors.length, 1, bytes);
    assert.equal(r.errors[0]!.source, 'upstream');
  }
});
