import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exchange, startServer } from './harness.js';
import { recordingHandler, type Seen } from './handlers.js';
import { headerMutationFilterFactory } from '../../src/stream/filters/header-mutation.js';
import { assertIssue, configIssues } from '../config/helpers.js';

test('request headers are removed, set and added before the handler; response headers before encoding', async () => {
  const log: Seen[] = [];
  const mutate = headerMutationFilterFactory.create(
    {
      request: { remove: ['X-Debug'], set: { 'X-Env': 'prod' }, add: { Via: 'ringside' } },
      response: { set: { Server: 'ringside' }, add: { 'X-Extra': '1' }, remove: ['X-Stream-Id'] },
    },
    'filters[0].config',
  );
  const server = await startServer({ handlerFactory: recordingHandler(log), filters: [mutate] });
  try {
    const x = await exchange(server.port, 'GET /m HTTP/1.1\r\nHost: t\r\nx-debug: 1\r\nX-ENV: dev\r\nX-Env: qa\r\nVia: edge\r\n\r\n', ['GET']);
    assert.deepEqual(log[0]!.headers, { host: 't', 'x-env': 'prod', via: 'edge, ringside' });
    const h = x.answers[0]!.head.headers;
    assert.equal(h.get('server'), 'ringside');
    assert.equal(h.get('x-extra'), '1');
    assert.equal(h.get('x-stream-id'), undefined);
  } finally {
    await server.close();
  }
});

test('config errors name the JSON path; CR/LF in values is refused', () => {
  const f = headerMutationFilterFactory;
  assertIssue(configIssues(() => f.create({ request: { set: { 'X-A': 'a\r\nInjected: 1' } } }, 'p')), 'p.request.set.X-A', /control/);
  assertIssue(configIssues(() => f.create({ response: { remove: 'x' } }, 'p')), 'p.response.remove', /expected array/);
  assertIssue(configIssues(() => f.create({}, 'p')), 'p', /needs/);
});
