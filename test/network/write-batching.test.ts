/**
 * The write loop sends every write told to it in one turn as ONE transport write, on a socket with
 * Nagle off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { FilterStatus } from '../../src/types/network.js';
import type { ListenerEventListener } from '../../src/types/network.js';
import { TcpListener } from '../../src/network/listeners/tcp-listener.js';
import type { ConnectionImpl } from '../../src/network/connection/connection.js';
import type { ReadMode } from '../../src/network/connection/wire.js';
import { settings, waitFor } from './helpers.js';

for (const readMode of ['onread', 'data'] as ReadMode[]) {
  test(`100 small writes in one turn leave as one socket write (${readMode} reads)`, async () => {
    let accepted: ConnectionImpl | null = null;
    const events: ListenerEventListener = { onAccept: (c) => (accepted = c as ConnectionImpl) };
    const l = new TcpListener({
      ...settings('batch', [
        (conn, chain) =>
          chain.addReadFilter({
            initializeReadFilterCallbacks() {},
            onNewConnection: () => FilterStatus.Continue,
            onData: () => {
              for (let i = 0; i < 100; i++) conn.write(Buffer.from(`${i % 10}`));
              return FilterStatus.Stop;
            },
          }),
      ], { eventListeners: [events], readMode }),
      host: '127.0.0.1',
      port: 0,
    });
    await l.start();
    const s = net.connect(l.port, '127.0.0.1');
    await once(s, 'connect');
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.write('go');
    await waitFor(() => got.length === 100);
    assert.equal(got, '0123456789'.repeat(10));
    assert.equal(accepted!.writeCalls, 1, 'one socket write for the whole turn');
    s.write('again');
    await waitFor(() => got.length === 200);
    assert.equal(accepted!.writeCalls, 2);
    s.destroy();
    await l.stopAccepting();
    l.closeConnections('test over');
  });
}
