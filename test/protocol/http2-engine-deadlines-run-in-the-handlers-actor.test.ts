/**
 * The engine's own deadlines (SETTINGS acknowledgement here) are handed to a handler that drives the
 * engine from an actor (the upstream client's `upstream.phase`, a downstream connection's
 * `downstream.codec`): the timer only reports which deadline and which arming passed, the connection
 * ends when the actor applies it with engine.expire, and an acknowledgement that arrives in between
 * turns the queued expiry into nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Http2Connection } from '../../src/protocol/http2/index.js';
import { Http2Deadline, Http2ErrorCode, type Http2ConnectionHandler } from '../../src/types/http2.js';

const SETTINGS_ACK = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);
const PEER_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

function clientEngine() {
  const expiries: [Http2Deadline, number][] = [];
  const closed: number[] = [];
  const handler: Http2ConnectionHandler = {
    onStreamHeaders() {},
    onStreamData() {},
    onStreamReset() {},
    onConnectionClosed: (_reason, code) => void closed.push(code),
    onDeadline: (deadline, armed) => void expiries.push([deadline, armed]),
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
  const { engine, expiries, closed } = clientEngine();
  await sleep(80);
  assert.equal(expiries.length, 1, 'the timer handed its expiry to the handler');
  assert.equal(expiries[0]![0], Http2Deadline.SettingsAck);
  assert.deepEqual(closed, [], 'the timer itself did not end the connection');
  engine.expire(...expiries[0]!);
  assert.deepEqual(closed, [Http2ErrorCode.SettingsTimeout]);
});

test('an acknowledgement that arrives before the actor applies the expiry cancels it', async () => {
  const { engine, expiries, closed } = clientEngine();
  await sleep(80);
  assert.equal(expiries.length, 1);
  engine.execute(SETTINGS_ACK);
  engine.expire(...expiries[0]!);
  assert.deepEqual(closed, []);
  engine.close(Http2ErrorCode.NoError, 'done');
});
