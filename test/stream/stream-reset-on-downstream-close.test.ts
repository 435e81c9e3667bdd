import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exchange, sleep, startServer } from './harness.js';
import { recordingHandler, type Seen } from './handlers.js';
import { StreamResetReason } from '../../src/types/stream.js';
import net from 'node:net';
import { once } from 'node:events';

test('a downstream closing mid-stream resets the unanswered stream with ConnectionClosed', async () => {
  const log: Seen[] = [];
  const server = await startServer({ handlerFactory: recordingHandler(log) });
  try {
    const socket = net.connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /silent HTTP/1.1\r\nHost: t\r\n\r\nGET /delay/1 HTTP/1.1\r\nHost: t\r\n\r\n');
    await sleep(30);
    assert.equal(log.length, 2);
    assert.equal(log[0]!.reset, null);
    socket.destroy();
    await sleep(30);
    assert.equal(log[0]!.reset, StreamResetReason.ConnectionClosed);
    // Its handler already sent the whole answer (buffered behind stream 1): it is done, not reset.
    assert.equal(log[1]!.reset, null);
  } finally {
    await server.close();
  }
});

test('a request body cut off by the downstream resets its stream', async () => {
  const log: Seen[] = [];
  const server = await startServer({ handlerFactory: recordingHandler(log) });
  try {
    const socket = net.connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\npartial');
    await sleep(30);
    socket.destroy();
    await sleep(30);
    assert.equal(log[0]!.body, 'partial');
    assert.notEqual(log[0]!.reset, null);
  } finally {
    await server.close();
  }
});

test('streams answered completely are not reset when the downstream leaves afterwards', async () => {
  const log: Seen[] = [];
  const server = await startServer({ handlerFactory: recordingHandler(log) });
  try {
    await exchange(server.port, 'GET /a HTTP/1.1\r\nHost: t\r\n\r\n', ['GET']);
    await sleep(20);
    assert.equal(log[0]!.reset, null);
  } finally {
    await server.close();
  }
});
