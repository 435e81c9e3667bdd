import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exchange, startServer } from './harness.js';
import { recordingHandler, type Seen } from './handlers.js';

const req = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

test('pipelined requests are answered in request order even when later ones finish first', async () => {
  const log: Seen[] = [];
  const server = await startServer({ handlerFactory: recordingHandler(log) });
  try {
    const x = await exchange(server.port, req('/delay/60') + req('/delay/5') + req('/a') + req('/delay/30'), ['GET', 'GET', 'GET', 'GET']);
    assert.deepEqual(x.answers.map((a) => a.body), ['GET /delay/60 ', 'GET /delay/5 ', 'GET /a ', 'GET /delay/30 ']);
    assert.deepEqual(x.answers.map((a) => a.head.headers.get('x-stream-id')), ['1', '2', '3', '4']);
    assert.deepEqual(log.map((s) => s.streamId), [1, 2, 3, 4]);
  } finally {
    await server.close();
  }
});

test('past a pipelining depth of 2 the next request is answered 503 and ends the connection; nothing behind it runs', async () => {
  const log: Seen[] = [];
  const server = await startServer({ handlerFactory: recordingHandler(log), maxPipelined: 2 });
  try {
    const paths = ['/delay/20', '/b', '/delay/10', '/d', '/e', '/delay/5'];
    const x = await exchange(server.port, paths.map(req).join(''), ['GET', 'GET', 'GET'], { waitClose: true });
    assert.deepEqual(x.answers.map((a) => a.head.status), [200, 200, 503]);
    assert.deepEqual(x.answers.slice(0, 2).map((a) => a.body), ['GET /delay/20 ', 'GET /b ']);
    assert.match(x.answers[2]!.body, /more than 2 pipelined requests/);
    assert.equal(x.answers[2]!.head.keepAlive, false, 'the 503 says Connection: close');
    assert.equal(x.closed, true);
    assert.deepEqual(log.map((s) => s.path), ['/delay/20', '/b'], 'only the requests within the depth reached the handler');
  } finally {
    await server.close();
  }
});

test('exactly the pipelining depth (2) in one write is answered 200, 200 with no 503', async () => {
  const log: Seen[] = [];
  const server = await startServer({ handlerFactory: recordingHandler(log), maxPipelined: 2 });
  try {
    const first = await exchange(server.port, req('/a') + req('/b'), ['GET', 'GET'], { keepOpen: true });
    assert.deepEqual(first.answers.map((a) => a.head.status), [200, 200]);
    first.socket.destroy();
  } finally {
    await server.close();
  }
});

test('a chunked request body with trailers reaches the handler; an unknown-length answer goes out chunked', async () => {
  const log: Seen[] = [];
  const server = await startServer({ handlerFactory: recordingHandler(log) });
  try {
    const body = 'POST /stream HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n';
    const x = await exchange(server.port, [body.slice(0, 70), body.slice(70)], ['POST']);
    assert.equal(log[0]!.body, 'abcde');
    assert.deepEqual(log[0]!.trailers, { 'x-t': '1' });
    assert.equal(x.answers[0]!.head.chunked, true);
    assert.equal(x.answers[0]!.body, 'id=1;abcde');
    assert.deepEqual(x.answers[0]!.trailers, { 'x-done': 'yes' });
  } finally {
    await server.close();
  }
});

test('Connection: close on a request closes the connection after its answer; HTTP/1.0 likewise', async () => {
  const server = await startServer({ handlerFactory: recordingHandler([]) });
  try {
    const c = await exchange(server.port, 'GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n', ['GET'], { waitClose: true });
    assert.equal(c.answers[0]!.head.keepAlive, false);
    assert.equal(c.closed, true);
    const old = await exchange(server.port, 'GET /y HTTP/1.0\r\n\r\n', ['GET'], { waitClose: true });
    assert.equal(old.answers[0]!.body, 'GET /y ');
    assert.equal(old.closed, true);
  } finally {
    await server.close();
  }
});

test('Expect: 100-continue gets an interim 100 before the client sends the body', async () => {
  const log: Seen[] = [];
  const server = await startServer({ handlerFactory: recordingHandler(log) });
  try {
    const head = 'PUT /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n';
    const x = await exchange(server.port, [head, 'hello'], ['PUT']);
    assert.deepEqual(x.informational, [100]);
    assert.ok(x.raw.startsWith('HTTP/1.1 100 Continue\r\n\r\n'));
    assert.equal(x.answers[0]!.body, 'PUT /up hello');
  } finally {
    await server.close();
  }
});

test('a malformed request after a good one: the good one is answered, then 400 and close', async () => {
  const log: Seen[] = [];
  const server = await startServer({ handlerFactory: recordingHandler(log) });
  try {
    const bad = 'GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n folded\r\n\r\n';
    const x = await exchange(server.port, req('/delay/20') + bad, ['GET', 'GET'], { waitClose: true });
    assert.equal(x.answers[0]!.head.status, 200);
    assert.equal(x.answers[1]!.head.status, 400);
    assert.equal(x.answers[1]!.head.keepAlive, false);
    assert.equal(x.closed, true);
    assert.equal(log.length, 1, 'no handler for the bad request');
  } finally {
    await server.close();
  }
});

test('limits answer with their HTTP status: 431 for an oversized head', async () => {
  const server = await startServer({ handlerFactory: recordingHandler([]), limits: { maxHeaderBytes: 128 } });
  try {
    const x = await exchange(server.port, `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${'x'.repeat(200)}\r\n\r\n`, ['GET'], { waitClose: true });
    assert.equal(x.answers[0]!.head.status, 431);
  } finally {
    await server.close();
  }
});
