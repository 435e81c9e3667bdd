import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exchange, sleep, startServer } from './harness.js';
import { http1Codec } from '../../src/protocol/http1/codec.js';
import { FilterStatus } from '../../src/types/network.js';
import type { StreamInfo, StreamReceiverFilter } from '../../src/types/stream.js';
import { recordingHandler, type Seen } from './handlers.js';
import { createFaultFilterFactory } from '../../src/stream/filters/fault.js';
import { assertIssue, configIssues } from '../config/helpers.js';

const get = 'GET /f HTTP/1.1\r\nHost: t\r\n\r\n';

test('abort at 100% answers with the configured status and never reaches the handler', async () => {
  const log: Seen[] = [];
  const fault = createFaultFilterFactory().create({ abort: { status: 503, percentage: 100 } }, 'filters[0].config');
  const server = await startServer({ handlerFactory: recordingHandler(log), filters: [fault] });
  try {
    const x = await exchange(server.port, get, ['GET']);
    assert.equal(x.answers[0]!.head.status, 503);
    assert.equal(log.length, 0);
  } finally {
    await server.close();
  }
});

test('a fixed delay holds the request for at least the delay, then it goes through', async () => {
  const log: Seen[] = [];
  const fault = createFaultFilterFactory().create({ delay: { fixed_delay: '60ms', percentage: 100 } }, 'f');
  const server = await startServer({ handlerFactory: recordingHandler(log), filters: [fault] });
  try {
    const started = performance.now();
    const x = await exchange(server.port, get, ['GET']);
    assert.ok(performance.now() - started >= 55, 'delayed');
    assert.equal(x.answers[0]!.head.status, 200);
    assert.equal(log.length, 1);
  } finally {
    await server.close();
  }
});

test('delay then abort: the abort answer comes after the delay', async () => {
  const fault = createFaultFilterFactory().create({ delay: { fixed_delay: 40, percentage: 100 }, abort: { status: 429, percentage: 100 } }, 'f');
  const server = await startServer({ handlerFactory: recordingHandler([]), filters: [fault] });
  try {
    const started = performance.now();
    const x = await exchange(server.port, get, ['GET']);
    assert.ok(performance.now() - started >= 35);
    assert.equal(x.answers[0]!.head.status, 429);
  } finally {
    await server.close();
  }
});

test('percentages are drawn per request against the random source', async () => {
  const draws = [0.05, 0.95, 0.2, 0.5];
  let i = 0;
  const fault = createFaultFilterFactory(() => draws[i++ % draws.length]!).create({ abort: { status: 500, percentage: 30 } }, 'f');
  const server = await startServer({ handlerFactory: recordingHandler([]), filters: [fault] });
  try {
    const x = await exchange(server.port, get.repeat(4), ['GET', 'GET', 'GET', 'GET']);
    assert.deepEqual(x.answers.map((a) => a.head.status), [500, 200, 500, 200]);
  } finally {
    await server.close();
  }
});

test('a pending delay is cancelled when the stream is destroyed: the request never resumes', async () => {
  const factory = createFaultFilterFactory().create({ delay: { fixed_delay: '30ms', percentage: 100 }, abort: { status: 500, percentage: 100 } }, 'f');
  const filters: StreamReceiverFilter[] = [];
  factory({} as StreamInfo, { addReceiverFilter: (f) => filters.push(f), addSenderFilter: () => {} });
  const calls: string[] = [];
  const filter = filters[0]!;
  filter.setReceiverCallbacks({
    stream: {} as StreamInfo,
    continueDecoding: () => calls.push('continue'),
    sendLocalReply: (status) => calls.push(`reply ${status}`),
    replaceDecodingData: () => false,
    swallowDecodingData: () => false,
    addDecodingData: () => false,
  });
  assert.equal(filter.onReceiveHeaders!(http1Codec.newRequest('GET', '/'), true), FilterStatus.Stop);
  filter.onDestroy!();
  await sleep(60);
  assert.deepEqual(calls, []);
});

test("MOSN's header matchers pick the requests a fault applies to; an absent percentage never injects", async () => {
  const fault = createFaultFilterFactory().create(
    { abort: { status: 503, percentage: 100 }, headers: [{ name: 'X-Chaos', value: 'on' }, { name: 'x-user', value: 'test-\\d+', regex: true }] },
    'f',
  );
  const never = createFaultFilterFactory().create({ abort: { status: 500 } }, 'g');
  const server = await startServer({ handlerFactory: recordingHandler([]), filters: [never, fault] });
  try {
    const req = (headers: string) => `GET /f HTTP/1.1\r\nHost: t\r\n${headers}\r\n`;
    const x = await exchange(server.port, req('x-chaos: on\r\nx-user: test-7\r\n') + req('x-chaos: on\r\nx-user: prod-7\r\n') + req('x-user: test-7\r\n'), ['GET', 'GET', 'GET']);
    assert.deepEqual(x.answers.map((a) => a.head.status), [503, 200, 200]);
  } finally {
    await server.close();
  }
});

test('the factory parses its config with the registered spec: errors carry the JSON path', () => {
  assertIssue(configIssues(() => createFaultFilterFactory().create({ abort: { status: 99, percentage: 1 } }, 'f')), 'f.abort.status', /integer from 200 to 599/);
});
