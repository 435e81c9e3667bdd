/**
 * The engine's own deadlines (SETTINGS acknowledgement here) are handed to a handler that drives the
 * engine from an actor (the upstream client's `upstream.phase`): the timer only hands over `expire`,
 * the connection ends when the actor applies it, and an acknowledgement that arrives in between
 * turns the queued expiry into nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Http2Connection } from '../../src/protocol/http2/index.js';
import { Http2ErrorCode, type Http2ConnectionHandler } from '../../src/types/http2.js';

const SETTINGS_ACK = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);
const PEER_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

function clientEngine() {
  const expiries: (() => void)[] = [];
  const closed: number[] = [];
  const handler: Http2ConnectionHandler = {
    onStreamHeaders() {},
    onStreamData() {},
    onStreamReset() {},
    onConnectionClosed: (_reason, code) => void closed.push(code),
    onDeadline: (expire) => void expiries.push(expire),
  };
  const engine = new Http2Connection({
    role: 'client',
    settings: { settingsAckTimeoutMs: 30 },
    handler,
    transport: { write() {}, close() {} },
  });
  engine.start();
  engine.execute(PEER_SETTINGS);
  return { engine, expiries, closed };
}

test('a passed SETTINGS deadline waits for the handler to apply it', async () => {
  const { expiries, closed } = clientEngine();
  await sleep(80);
  assert.equal(expiries.length, 1, 'the timer handed its expiry to the handler');
  assert.deepEqual(closed, [], 'the timer itself did not end the connection');
  expiries[0]!();
  assert.deepEqual(closed, [Http2ErrorCode.SettingsTimeout]);
});

test('an acknowledgement that arrives before the actor applies the expiry cancels it', async () => {
  const { engine, expiries, closed } = clientEngine();
  await sleep(80);
  assert.equal(expiries.length, 1);
  engine.execute(SETTINGS_ACK);
  expiries[0]!();
  assert.deepEqual(closed, []);
  engine.close(Http2ErrorCode.NoError, 'done');
});
