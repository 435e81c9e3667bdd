import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exchange, startServer } from './harness.js';
import { recordingHandler, type Seen } from './handlers.js';
import { FilterStatus } from '../../src/types/network.js';
import type { RequestFrame, ResponseFrame } from '../../src/types/protocol.js';
import type {
  StreamFilterChainFactory,
  StreamReceiverFilterCallbacks,
  StreamSenderFilterCallbacks,
} from '../../src/types/stream.js';

/** Holds the request head for `ms`, then resumes; records what happened meanwhile. */
function holdingReceiver(ms: number, events: string[]): StreamFilterChainFactory {
  return (_stream, chain) => {
    let cb: StreamReceiverFilterCallbacks;
    chain.addReceiverFilter({
      setReceiverCallbacks: (c) => (cb = c),
      onReceiveHeaders: (req: RequestFrame) => {
        events.push(`recv-headers ${req.path}`);
        req.path = '/rewritten' + req.path;
        setTimeout(() => {
          events.push('continue-decoding');
          cb.continueDecoding();
        }, ms);
        return FilterStatus.Stop;
      },
      onReceiveData: (chunk, eos) => {
        events.push(`recv-data ${chunk.toString()} ${eos}`);
        return FilterStatus.Continue;
      },
      onDestroy: () => events.push('recv-destroy'),
    });
  };
}

function holdingSender(ms: number, events: string[]): StreamFilterChainFactory {
  return (_stream, chain) => {
    let cb: StreamSenderFilterCallbacks;
    chain.addSenderFilter({
      setSenderCallbacks: (c) => (cb = c),
      onSendHeaders: (res: ResponseFrame) => {
        events.push(`send-headers ${res.status} for ${cb.request?.path}`);
        res.headers.set('X-Filtered', 'yes');
        setTimeout(() => cb.continueEncoding(), ms);
        return FilterStatus.Stop;
      },
      onSendData: (chunk) => {
        events.push(`send-data ${chunk.length}`);
        return FilterStatus.Continue;
      },
    });
  };
}

test('a receiver filter that stops holds the head and the body until continueDecoding()', async () => {
  const log: Seen[] = [];
  const events: string[] = [];
  const server = await startServer({ handlerFactory: recordingHandler(log), filters: [holdingReceiver(40, events)] });
  try {
    const started = Date.now();
    const x = await exchange(server.port, 'POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody', ['POST']);
    assert.ok(Date.now() - started >= 35, 'the answer waited for the filter');
    assert.equal(x.answers[0]!.body, 'POST /rewritten/p body', 'the handler saw the rewritten path and the held body');
    assert.deepEqual(events, ['recv-headers /p', 'continue-decoding', 'recv-data body true', 'recv-destroy']);
  } finally {
    await server.close();
  }
});

test('a sender filter that stops holds the answer until continueEncoding(); its edits go out', async () => {
  const events: string[] = [];
  const server = await startServer({ handlerFactory: recordingHandler([]), filters: [holdingSender(30, events)] });
  try {
    const x = await exchange(server.port, 'GET /s HTTP/1.1\r\nHost: t\r\n\r\nGET /t HTTP/1.1\r\nHost: t\r\n\r\n', ['GET', 'GET']);
    assert.deepEqual(x.answers.map((a) => [a.body, a.head.headers.get('x-filtered')]), [
      ['GET /s ', 'yes'],
      ['GET /t ', 'yes'],
    ]);
    assert.deepEqual(events, ['send-headers 200 for /s', 'send-headers 200 for /t', 'send-data 7', 'send-data 7']);
  } finally {
    await server.close();
  }
});

test('a receiver filter can answer by itself; the handler is never made', async () => {
  const log: Seen[] = [];
  const deny: StreamFilterChainFactory = (_s, chain) => {
    let cb: StreamReceiverFilterCallbacks;
    chain.addReceiverFilter({
      setReceiverCallbacks: (c) => (cb = c),
      onReceiveHeaders: (req) => {
        if (req.headers.get('authorization') !== undefined) return FilterStatus.Continue;
        cb.sendLocalReply(401, { 'WWW-Authenticate': 'Bearer' }, 'no token\n');
        return FilterStatus.Stop;
      },
    });
  };
  const server = await startServer({ handlerFactory: recordingHandler(log), filters: [deny] });
  try {
    const x = await exchange(
      server.port,
      'GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\nAuthorization: x\r\n\r\n',
      ['GET', 'GET'],
    );
    assert.equal(x.answers[0]!.head.status, 401);
    assert.equal(x.answers[0]!.head.headers.get('www-authenticate'), 'Bearer');
    assert.equal(x.answers[0]!.body, 'no token\n');
    assert.equal(x.answers[1]!.head.status, 200);
    assert.deepEqual(log.map((s) => s.path), ['/b']);
  } finally {
    await server.close();
  }
});
