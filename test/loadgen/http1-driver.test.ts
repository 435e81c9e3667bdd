import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { toLoadOptions } from '../../src/loadgen/options.js';
import { runLoad } from '../../src/loadgen/runner.js';

/**
 * A raw HTTP/1.1 server that answers request n with: a chunked body written in pieces (n % 4 === 1),
 * `Connection: close` and a close (n % 9 === 0), a 503 (n % 10 === 5), else a Content-Length body —
 * the head and body cut at odd places across TCP writes.
 */
async function mixedServer(): Promise<{ url: string; requests: () => number; connections: () => number; closes: () => number; close: () => Promise<void> }> {
  let n = 0;
  let conns = 0;
  let closes = 0;
  const server = net.createServer((sock) => {
    conns++;
    sock.setNoDelay(true);
    let pending = '';
    let closing = false;
    sock.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      let end: number;
      while (!closing && (end = pending.indexOf('\r\n\r\n')) !== -1) {
        pending = pending.slice(end + 4);
        n++;
        if (n % 4 === 1) {
          sock.write('HTTP/1.1 200 OK\r\nTransfer-Enc');
          sock.write('oding: chunked\r\nX-N: ' + n + '\r\n\r\n5\r\nhel');
          sock.write('lo\r\n0\r\n\r\n');
        } else if (n % 9 === 0) {
          closing = true;
          closes++;
          sock.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok');
        } else if (n % 10 === 5) {
          sock.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy');
        } else {
          sock.write('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r');
          sock.write('\nhello world');
        }
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`,
    requests: () => n,
    connections: () => conns,
    closes: () => closes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the http1 load driver', () => {
  it('counts chunked, Connection: close and error responses split across writes, after a warm-up', async () => {
    const server = await mixedServer();
    try {
      const opts = toLoadOptions(server.url, { threads: '1', requests: '600', warmup: '150ms' }, '4');
      const r = await runLoad(opts);
      assert.equal(r.requests, 600);
      assert.ok(r.warmup_requests > 0, 'the warm-up ran and its responses were counted apart');
      // Every 10th request from the 5th on is a 503, whichever connection carried it.
      assert.ok(r.errors > 0 && r.errors === r.errors_by_status['503'], JSON.stringify(r.errors_by_status));
      assert.deepEqual(Object.keys(r.errors_by_status), ['503']);
      // Each connection the server closed was replaced (but those closed as the run ended, at most 4).
      assert.ok(server.closes() > 20, `only ${server.closes()} closes`);
      assert.ok(server.connections() >= server.closes(), `${server.connections()} connections, ${server.closes()} closed`);
      // Answered = counted; only what was in flight when -n was reached (one per connection) is past it.
      const answered = r.requests + r.warmup_requests;
      assert.ok(server.requests() >= answered && server.requests() <= answered + 4, `${server.requests()} served, ${answered} counted`);
    } finally {
      await server.close();
    }
  });
});
