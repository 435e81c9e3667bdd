/**
 * Supervision on the request path: a stream filter that throws crashes its connection's read-loop
 * actor. That connection alone answers 500 and closes; the crash is counted under the actor kind;
 * every other connection carries on; the listener stops counting the crashed connection, so a drain
 * has nothing to wait for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { ActorRunLoop } from '../../src/actor/run-loop.js';
import { createExtensions } from '../../src/extensions.js';
import { FilterStatus } from '../../src/types/network.js';
import type { StreamFilterFactory } from '../../src/types/stream.js';
import { cluster, proxyConfig, rawExchange, startDataplane, startUpstream } from './harness.js';

/** Throws from onReceiveHeaders when the request carries x-crash: a filter with a bug. */
const throwingFilter: StreamFilterFactory = {
  create: () => (_stream, chain) =>
    chain.addReceiverFilter({
      setReceiverCallbacks() {},
      onReceiveHeaders(request) {
        if (request.headers.get('x-crash') !== undefined) throw new Error('filter bug');
        return FilterStatus.Continue;
      },
    }),
};

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a throwing stream filter resets only its own connection with a 500; the crash is counted once', async () => {
  const up = await startUpstream((_req, res) => res.end('ok'));
  const extensions = createExtensions();
  extensions.streamFilters.register('test_throws', throwingFilter);
  const runLoop = new ActorRunLoop();
  const dp = await startDataplane(
    proxyConfig({
      routes: [{ match: { prefix: '/' }, route: { cluster_name: 'up' } }],
      clusters: [cluster('up', [up.address])],
      streamFilters: [{ type: 'test_throws', config: {} }],
    }),
    { extensions, runLoop },
  );
  const address = dp.addresses.get('ingress')!;
  const [host, port] = address.split(':');
  try {
    // A healthy keep-alive connection, open across the crash.
    const healthy = net.connect(Number(port), host);
    await once(healthy, 'connect');
    let healthyText = '';
    healthy.setEncoding('latin1');
    healthy.on('data', (d: string) => (healthyText += d));
    healthy.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => healthyText.includes('ok'));

    const crashed = await rawExchange(address, 'GET /b HTTP/1.1\r\nHost: x\r\nx-crash: 1\r\n\r\n');
    assert.match(crashed.text, /^HTTP\/1\.1 500 /, `got: ${JSON.stringify(crashed.text)}`);
    assert.match(crashed.text, /connection: close/i);
    assert.ok(crashed.closed, 'the crashed connection was closed');

    // The other connection carries on.
    healthyText = '';
    healthy.write('GET /c HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => healthyText.includes('ok'));
    assert.match(healthyText, /^HTTP\/1\.1 200 /);

    const kinds = runLoop.stats().kinds;
    assert.equal(kinds['connection.read']?.crashes, 1);
    assert.equal(kinds['connection.write']?.crashes, 0);
    assert.equal(runLoop.stats().crashes, 1);
    // Only the healthy connection still counts; once it closes, nothing is left for a drain.
    await until(() => dp.network.activeConnections() === 1);
    healthy.destroy();
    await until(() => dp.network.activeConnections() === 0);
    // What is left are the pooled upstream connections (their read loops serve the upstream clients).
    const left = runLoop.stats().kinds;
    assert.equal(left['connection.read']?.live, left['upstream.phase']?.live ?? 0);
  } finally {
    await dp.close();
    await up.close();
  }
});
