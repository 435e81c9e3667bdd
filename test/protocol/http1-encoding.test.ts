import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/common/registry.js';
import { Headers } from '../../src/protocol/headers.js';
import { http1Codec, registerHttp1, detectHttp1 } from '../../src/protocol/http1/codec.js';
import { createHttp1RequestEncoder, createHttp1ResponseEncoder } from '../../src/protocol/http1/encoder.js';
import { H1Response } from '../../src/protocol/http1/heads.js';
import { encodeErrorResponse } from '../../src/protocol/http1/replies.js';
import { RingsideError } from '../../src/common/errors.js';
import type { ProtocolCodec } from '../../src/types/protocol.js';
import { decodeRequests, decodeResponses } from './collect.js';

const get11 = { method: 'GET', versionMinor: 1 as const, keepAlive: true };

function res(status: number, headers: Record<string, string> = {}): H1Response {
  return new H1Response(1, status, '', Headers.from(headers));
}

test('a whole response is one buffer with a Content-Length from the body', () => {
  const enc = createHttp1ResponseEncoder(get11);
  const out = enc.encodeHead(res(200, { 'Content-Type': 'text/plain' }), Buffer.from('hello'), true);
  assert.equal(out.toString(), 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello');
  assert.equal(enc.keepAlive, true);
});

test('a response of unknown length is chunked for HTTP/1.1, with trailers', () => {
  const enc = createHttp1ResponseEncoder(get11);
  const parts = [
    enc.encodeHead(res(200), null, false),
    enc.encodeData(Buffer.from('hello'), false),
    enc.encodeData(Buffer.alloc(0), false),
    enc.encodeData(Buffer.from(' world!!!!!!!!!!'), false),
    enc.encodeTrailers(Headers.from({ 'X-Sum': '1' })),
  ];
  const wire = Buffer.concat(parts).toString();
  assert.equal(wire, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\n world!!!!!!!!!!\r\n0\r\nX-Sum: 1\r\n\r\n');
  const back = decodeResponses(['GET'], [wire]);
  assert.equal(back.messages[0]!.body, 'hello world!!!!!!!!!!');
  assert.deepEqual(back.messages[0]!.trailers, { 'x-sum': '1' });
});

test('an HTTP/1.0 peer gets a body delimited by close, never chunks', () => {
  const enc = createHttp1ResponseEncoder({ method: 'GET', versionMinor: 0, keepAlive: true });
  const head = enc.encodeHead(res(200), null, false).toString();
  assert.ok(!head.includes('chunked'));
  assert.ok(head.includes('Connection: close'));
  assert.equal(enc.keepAlive, false);
  assert.equal(enc.encodeData(Buffer.from('abc'), true).toString(), 'abc');
});

test('HTTP/1.0 keep-alive is confirmed when the length is known', () => {
  const enc = createHttp1ResponseEncoder({ method: 'GET', versionMinor: 0, keepAlive: true });
  assert.ok(enc.encodeHead(res(200), Buffer.from('x'), true).toString().includes('Connection: keep-alive\r\n'));
});

test('hop-by-hop framing fields of a forwarded head are replaced by the encoder', () => {
  const enc = createHttp1ResponseEncoder(get11);
  const upstream = res(200, { Connection: 'close', 'Keep-Alive': 'timeout=5', 'Transfer-Encoding': 'chunked', Server: 'up' });
  const wire = enc.encodeHead(upstream, null, false).toString();
  assert.equal(wire, 'HTTP/1.1 200 OK\r\nServer: up\r\nTransfer-Encoding: chunked\r\n\r\n');
  assert.equal(enc.keepAlive, true, "the upstream's close is not the downstream's");
});

test('responses to HEAD keep Content-Length and send no body; 204/304 get no framing', () => {
  const head = createHttp1ResponseEncoder({ method: 'HEAD', versionMinor: 1, keepAlive: true });
  assert.equal(
    Buffer.concat([head.encodeHead(res(200, { 'Content-Length': '42' }), null, false), head.encodeData(Buffer.from('ignored'), true)]).toString(),
    'HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n',
  );
  const nc = createHttp1ResponseEncoder(get11);
  assert.equal(nc.encodeHead(res(204), null, true).toString(), 'HTTP/1.1 204 No Content\r\n\r\n');
  const nm = createHttp1ResponseEncoder(get11);
  assert.equal(nm.encodeHead(res(304), null, false).toString(), 'HTTP/1.1 304 Not Modified\r\n\r\n');
});

test('closeConnection() and a closing request produce Connection: close', () => {
  const enc = createHttp1ResponseEncoder(get11);
  enc.closeConnection();
  assert.ok(enc.encodeHead(res(503), null, true).toString().includes('Connection: close\r\n'));
  const req = createHttp1ResponseEncoder({ method: 'GET', versionMinor: 1, keepAlive: false });
  assert.ok(req.encodeHead(res(200), null, true).toString().includes('Connection: close\r\n'));
});

test('requests encode with Content-Length, chunked, or no framing for a body-less GET', () => {
  const a = createHttp1RequestEncoder();
  const wire = a.encodeHead(http1Codec.newRequest('POST', '/v1/x', Headers.from({ Host: 'svc' })), Buffer.from('{}'), true);
  assert.equal(wire.toString(), 'POST /v1/x HTTP/1.1\r\nHost: svc\r\nContent-Length: 2\r\n\r\n{}');
  const decoded = decodeRequests([wire]);
  assert.equal(decoded.messages[0]!.body, '{}');

  const b = createHttp1RequestEncoder();
  assert.equal(b.encodeHead(http1Codec.newRequest('GET', '/', Headers.from({ Host: 'h' })), null, true).toString(), 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');

  const c = createHttp1RequestEncoder();
  const streamed = Buffer.concat([
    c.encodeHead(http1Codec.newRequest('PUT', '/f', Headers.from({ Host: 'h' })), Buffer.from('ab'), false),
    c.encodeData(Buffer.from('cd'), true),
  ]);
  assert.equal(streamed.toString(), 'PUT /f HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n');
  assert.equal(decodeRequests([streamed]).messages[0]!.body, 'abcd');
});

test('a request without Host (HTTP/1.0 allows it) is sent as HTTP/1.1 with one: the absolute-form authority, else empty', () => {
  const [origin] = decodeRequests(['GET /old HTTP/1.0\r\nAccept: */*\r\n\r\n']).messages;
  const wire = createHttp1RequestEncoder().encodeHead(origin!.head, null, true).toString('latin1');
  assert.equal(wire, 'GET /old HTTP/1.1\r\nAccept: */*\r\nHost: \r\n\r\n');
  assert.equal(decodeRequests([wire]).errors.length, 0, 'what is sent is a valid HTTP/1.1 request');

  const [absolute] = decodeRequests(['GET http://user@svc.test:8080/a?b HTTP/1.0\r\n\r\n']).messages;
  assert.match(createHttp1RequestEncoder().encodeHead(absolute!.head, null, true).toString('latin1'), /\r\nHost: svc\.test:8080\r\n/);

  const withHost = http1Codec.newRequest('GET', '/', Headers.from({ HOST: 'given' }));
  assert.equal(createHttp1RequestEncoder().encodeHead(withHost, null, true).toString(), 'GET / HTTP/1.1\r\nHOST: given\r\n\r\n');
});

test('error replies carry the status from the error and close the connection', () => {
  const wire = encodeErrorResponse(new RingsideError('LIMIT_EXCEEDED', 'downstream', 'header section too large', { status: 431 })).toString();
  assert.match(wire, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.ok(wire.includes('Connection: close\r\n'));
  const back = decodeResponses(['GET'], [wire]);
  assert.equal(back.messages[0]!.head.keepAlive, false);
  assert.match(back.messages[0]!.body, /header section too large/);
});

test('detect() matches request lines, asks for more on a prefix, refuses other protocols', () => {
  assert.equal(detectHttp1(Buffer.from('GET / HTTP/1.1\r\n')), 'match');
  assert.equal(detectHttp1(Buffer.from('OPTIONS * HTTP/1.1')), 'match');
  assert.equal(detectHttp1(Buffer.from('PO')), 'need-more');
  assert.equal(detectHttp1(Buffer.from('GET')), 'need-more');
  assert.equal(detectHttp1(Buffer.from('PRI * HTTP/2.0\r\n')), 'no');
  assert.equal(detectHttp1(Buffer.from([0x01, 0x01, 0x00])), 'no'); // bolt magic
  assert.equal(detectHttp1(Buffer.from('GETX / HTTP/1.1')), 'no');
});

test('registerHttp1 puts the codec in a registry under "Http1" and refuses a second registration', () => {
  const codecs = new Registry<ProtocolCodec>('codec');
  registerHttp1(codecs);
  assert.equal(codecs.require('Http1').name, 'Http1');
  assert.throws(() => registerHttp1(codecs), /already registered/);
});
