/**
 * Upstreams that misbehave, all at once, under concurrent load through `ringside start` (two worker
 * threads): one that answers binary garbage, one whose answer has ambiguous framing (CL with TE), one
 * that resets in the middle of a body, one that never answers — while well-behaved requests on other
 * connections keep being answered 200. (Single-request versions of the reset and never-answers cases
 * run in-process in test/proxy/proxy-forwards-and-answers-errors.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { proxySidecarConfig, startSidecar } from '../fuzz/sidecar.js';
import { KeepAliveClient } from './helpers.js';

const ROUTE_TIMEOUT_MS = 400;

/** Answers by request path; each connection serves requests one at a time. */
async function startMisbehaving(): Promise<{ address: string; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let end;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const path = buf.slice(0, buf.indexOf('\r\n')).split(' ')[1] ?? '';
        buf = buf.slice(end + 4);
        if (path.startsWith('/garbage')) socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x0d, 0x0a, 0x0d, 0x0a]));
        else if (path.startsWith('/ambiguous')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n');
        else if (path.startsWith('/reset')) {
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(10)}`);
          setTimeout(() => socket.resetAndDestroy(), 20);
        } else if (path.startsWith('/never')) {
          /* holds the request */
        } else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test('garbage, ambiguous framing, a reset mid-body and silence from upstreams: 502, 502, a cut response, 504; good traffic unaffected', async (t) => {
  const up = await startMisbehaving();
  t.after(() => up.close());
  const sidecar = await startSidecar(proxySidecarConfig([up.address], { route: { timeout: `${ROUTE_TIMEOUT_MS}ms` } }));
  t.after(() => sidecar.stop());
  const address = sidecar.listeners.get('edge')!;

  const good = await Promise.all(Array.from({ length: 4 }, () => KeepAliveClient.connect(address)));
  t.after(() => good.forEach((c) => c.socket.destroy()));
  let running = true;
  let goodAnswers = 0;
  const goodErrors: string[] = [];
  const goodLoops = good.map(async (c) => {
    while (running) {
      try {
        const a = await c.get('/ok');
        if (a.status === 200) goodAnswers++;
        else goodErrors.push(`status ${a.status}`);
      } catch (err) {
        goodErrors.push((err as Error).message);
        return;
      }
    }
  });

  const outcome = async (path: string): Promise<string> => {
    const c = await KeepAliveClient.connect(address);
    try {
      const a = await c.get(path);
      return `${a.status}${a.ms > ROUTE_TIMEOUT_MS + 1500 ? ' late' : ''}`;
    } catch (err) {
      return `cut: ${(err as Error).message}`;
    } finally {
      c.socket.destroy();
    }
  };
  const kinds = ['/garbage', '/ambiguous', '/reset', '/never'];
  const results = await Promise.all(kinds.flatMap((k) => Array.from({ length: 6 }, (_, i) => outcome(`${k}/${i}`).then((r) => [k, r] as const))));
  running = false;
  await Promise.all(goodLoops);

  const by = (k: string): string[] => [...new Set(results.filter(([kind]) => kind === k).map(([, r]) => r))];
  t.diagnostic(JSON.stringify(Object.fromEntries(kinds.map((k) => [k, by(k)]))) + ` good answers ${goodAnswers}`);
  assert.deepEqual(by('/garbage'), ['502']);
  assert.deepEqual(by('/ambiguous'), ['502']);
  // The head was already forwarded when the body broke: the only honest signal left is the cut.
  assert.deepEqual(by('/reset'), ['cut: connection closed']);
  assert.deepEqual(by('/never'), ['504']);
  assert.deepEqual(goodErrors, []);
  assert.ok(goodAnswers > 0);
  assert.doesNotMatch(sidecar.child.stderr(), /crashed/);
});
