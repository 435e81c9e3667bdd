/**
 * max_connections: connections beyond the limit are closed at accept and counted as rejected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { TcpListener } from '../../src/network/listeners/tcp-listener.js';
import { echoChain, readUntilClose, roundTrip, settings, waitFor } from './helpers.js';

test('the connection past max_connections is refused and counted; a slot freed is usable again', async () => {
  const l = new TcpListener({ ...settings('max', [echoChain()], { maxConnections: 2 }), host: '127.0.0.1', port: 0 });
  await l.start();
  const a = net.connect(l.port, '127.0.0.1');
  const b = net.connect(l.port, '127.0.0.1');
  await Promise.all([once(a, 'connect'), once(b, 'connect')]);
  await waitFor(() => l.stats().activeConnections === 2);
  const c = net.connect(l.port, '127.0.0.1');
  c.on('connect', () => c.write('hello?'));
  assert.equal(await readUntilClose(c), '', 'the extra connection is closed without an answer');
  assert.deepEqual(
    { active: l.stats().activeConnections, total: l.stats().totalConnections, rejected: l.stats().rejectedConnections },
    { active: 2, total: 2, rejected: 1 },
  );
  a.destroy();
  await waitFor(() => l.stats().activeConnections === 1);
  assert.equal(await roundTrip(l.port, 'ok', 2), 'ok');
  b.destroy();
  await l.stopAccepting();
  l.closeConnections('test over');
});
