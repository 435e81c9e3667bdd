/**
 * A peer that resets while Ringside is writing to it closes that connection only (RemoteClose with the
 * error code); nothing is thrown and other connections carry on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { ConnectionEvent, FilterStatus } from '../../src/types/network.js';
import { TcpListener } from '../../src/network/listeners/tcp-listener.js';
import { roundTrip, settings, waitFor } from './helpers.js';

test('a peer resetting mid-write ends only its own connection, as RemoteClose', async () => {
  const closes: { event: string; reason: string | undefined }[] = [];
  const chunk = Buffer.alloc(256 * 1024, 120);
  const l = new TcpListener({
    ...settings('reset', [
      (conn, chain) => {
        conn.addEventListener((event, reason) => {
          if (event === ConnectionEvent.RemoteClose || event === ConnectionEvent.LocalClose) closes.push({ event, reason });
        });
        chain.addReadFilter({
          initializeReadFilterCallbacks() {},
          onNewConnection: () => FilterStatus.Continue,
          onData: (d) => {
            if (d.toString() === 'flood') {
              // Far more than the socket buffers hold: writes are still queued when the reset lands.
              for (let i = 0; i < 32; i++) conn.write(chunk);
            } else {
              conn.write(Buffer.from(d));
            }
            return FilterStatus.Stop;
          },
        });
      },
    ]),
    host: '127.0.0.1',
    port: 0,
  });
  await l.start();
  const victim = net.connect(l.port, '127.0.0.1');
  await once(victim, 'connect');
  victim.write('flood');
  await once(victim, 'data');
  victim.resetAndDestroy();
  await waitFor(() => closes.length === 1);
  assert.equal(closes[0]!.event, ConnectionEvent.RemoteClose);
  assert.match(closes[0]!.reason ?? '', /ECONNRESET|EPIPE|peer closed/);
  assert.equal(await roundTrip(l.port, 'still here', 10), 'still here');
  await waitFor(() => l.stats().activeConnections === 0);
  await l.stopAccepting();
});
