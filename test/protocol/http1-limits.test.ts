import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytewise, decodeRequests } from './collect.js';

const limits = { maxRequestLineBytes: 64, maxHeaderBytes: 256, maxHeaders: 4, maxBodyBytes: 16 };

function expectLimit(pieces: string[], status: number): void {
  const r = decodeRequests(pieces, { limits });
  assert.equal(r.errors.length, 1, 'one error');
  assert.equal(r.errors[0]!.code, 'LIMIT_EXCEEDED');
  assert.equal(r.errors[0]!.source, 'downstream');
  assert.equal(r.errors[0]!.status, status);
}

test('a request line over maxRequestLineBytes is 414, whole or still arriving', () => {
  const line = `GET /${'a'.repeat(80)} HTTP/1.1\r\nHost: a\r\n\r\n`;
  expectLimit([line], 414);
  expectLimit([line.slice(0, 70)], 414); // no LF yet: refused before the line completes
  expectLimit(bytewise(line), 414);
});

test('a request line just at the limit passes', () => {
  const line = `GET /${'a'.repeat(64 - 16)} HTTP/1.1\r\n`;
  assert.equal(line.length, 64);
  const r = decodeRequests([line + 'Host: a\r\n\r\n'], { limits });
  assert.equal(r.errors.length, 0);
});

test('a head over maxHeaderBytes is 431, whole or still arriving', () => {
  const head = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(300)}\r\n\r\n`;
  expectLimit([head], 431);
  expectLimit([head.slice(0, 200), head.slice(200, 280)], 431);
});

test('more than maxHeaders fields is 431', () => {
  expectLimit(['GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n'], 431);
  assert.equal(decodeRequests(['GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n'], { limits }).errors.length, 0);
});

test('a Content-Length over maxBodyBytes is 413 before any body byte arrives', () => {
  const r = decodeRequests(['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n'], { limits });
  assert.equal(r.errors[0]?.status, 413);
  assert.equal(r.messages.length, 0, 'the handler never sees the head');
});

test('chunked bodies are counted as they arrive: 413 once the total passes the limit', () => {
  const ok = decodeRequests(['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n'], { limits });
  assert.equal(ok.errors.length, 0);
  assert.equal(ok.messages[0]!.body.length, 16);
  expectLimit(['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n9\r\n123456789\r\n0\r\n\r\n'], 413);
});

test('trailers count against the header limits', () => {
  const r = decodeRequests(
    [`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ${'t'.repeat(300)}\r\n\r\n`],
    { limits },
  );
  assert.equal(r.errors[0]?.status, 431);
});
