/**
 * A connection with no bytes read or written for the idle timeout reports OnReadTimeout and closes;
 * one with traffic stays open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { ConnectionEvent } from '../../src/types/network.js';
import { TcpListener } from '../../src/network/listeners/tcp-listener.js';
import { delay, echoChain, readUntilClose, settings } from './helpers.js';

test('an idle connection gets OnReadTimeout then closes; a busy one outlives the timeout', async () => {
  const events: string[] = [];
  const l = new TcpListener({
    ...settings('idle', [echoChain(), (c) => c.addEventListener((e) => events.push(e))], { idleTimeoutMs: 120 }),
    host: '127.0.0.1',
    port: 0,
  });
  await l.start();
  const idle = net.connect(l.port, '127.0.0.1');
  const busy = net.connect(l.port, '127.0.0.1');
  await Promise.all([once(idle, 'connect'), once(busy, 'connect')]);
  const started = Date.now();
  const idleClosed = readUntilClose(idle);
  let busyOpen = true;
  busy.on('close', () => (busyOpen = false));
  const ticker = setInterval(() => busy.write('.'), 30);
  await idleClosed;
  const took = Date.now() - started;
  assert.ok(took >= 110 && took < 1000, `closed after ${took} ms`);
  assert.ok(events.includes(ConnectionEvent.OnReadTimeout));
  assert.ok(events.indexOf(ConnectionEvent.OnReadTimeout) < events.indexOf(ConnectionEvent.LocalClose));
  await delay(250);
  assert.ok(busyOpen, 'a connection with traffic must stay open');
  clearInterval(ticker);
  busy.destroy();
  await l.stopAccepting();
  l.closeConnections('test over');
});
