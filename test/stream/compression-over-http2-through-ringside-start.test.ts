/**
 * The compressor and decompressor stream filters on HTTP/2 listeners of a real `ringside start`,
 * with node:http2 clients and a node:http2 upstream: a body that ends in trailers is compressed (or
 * decompressed) and its trailers follow it, in both directions; request and response bodies are
 * decompressed; a decompression bomb ends only its own stream — a request bomb is answered 413 (its
 * upstream stream cancelled before any body byte), a response bomb is reset with RST_STREAM — while
 * another stream on the same connection completes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { startChild } from '../supervisor/helpers.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const MAX_BODY = 256 * 1024;
const page = JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => ({ i, name: `item-${i}` })) });

interface Seen {
  path: string;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
  /** Set once the upstream stream closed: 0 when it ended cleanly. */
  rstCode?: number;
}

interface Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
  rstCode: number;
}

/** One exchange on `session`; resolves however the stream ends (rstCode 0: it ended cleanly). */
function exchange(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer, trailers?: Record<string, string>): Promise<Answer> {
  return new Promise((resolve) => {
    const req = session.request(headers, { endStream: body === undefined && trailers === undefined, waitForTrailers: trailers !== undefined });
    const answer: Answer = { status: 0, headers: {}, body: Buffer.alloc(0), trailers: {}, rstCode: 0 };
    const chunks: Buffer[] = [];
    if (trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(trailers));
    req.on('response', (h) => {
      answer.status = Number(h[':status']);
      answer.headers = h;
    });
    req.on('trailers', (t) => (answer.trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {});
    req.on('close', () => {
      answer.body = Buffer.concat(chunks);
      answer.rstCode = req.rstCode ?? 0;
      resolve(answer);
    });
    if (body !== undefined || trailers !== undefined) req.end(body);
  });
}

test('compressor and decompressor over HTTP/2: trailers follow the (de)compressed body; a bomb ends only its stream', async () => {
  const seen: Seen[] = [];
  let releaseSlow!: () => void;
  const slowReleased = new Promise<void>((r) => (releaseSlow = r));
  const upstream = http2.createServer();
  upstream.on('session', (s) => s.on('error', () => {}));
  upstream.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    const chunks: Buffer[] = [];
    const entry: Seen = { path, headers, body: Buffer.alloc(0), trailers: {} };
    stream.on('trailers', (t) => (entry.trailers = t));
    stream.on('error', () => {});
    stream.on('close', () => (entry.rstCode = stream.rstCode));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', async () => {
      entry.body = Buffer.concat(chunks);
      seen.push(entry);
      if (path === '/slow') await slowReleased;
      if (stream.destroyed) return;
      const json = { ':status': 200, 'content-type': 'application/json' };
      const withTrailers = (head: http2.OutgoingHttpHeaders, body: Buffer): void => {
        stream.respond(head, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': String(body.length) }));
        stream.end(body);
      };
      switch (path) {
        case '/json-trailers':
          return withTrailers({ ...json, 'content-length': page.length }, Buffer.from(page));
        case '/gzip-trailers':
          return withTrailers({ ...json, 'content-encoding': 'gzip' }, gzipSync(page));
        case '/gzip':
          stream.respond({ ...json, 'content-encoding': 'gzip' });
          return stream.end(gzipSync(page));
        case '/bomb':
          stream.respond({ ...json, 'content-encoding': 'gzip' });
          return stream.end(gzipSync(Buffer.alloc(4 * MAX_BODY)));
        default:
          stream.respond({ ':status': 200 });
          return stream.end(path === '/slow' ? 'slow done' : 'ok');
      }
    });
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const upAddress = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  const listener = (name: string, streamFilters: unknown[]) => ({
    name,
    address: '127.0.0.1:0',
    filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http2', upstream_protocol: 'Http2', router_config_name: 'r' } }] }],
    stream_filters: streamFilters,
  });
  const config = {
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'vh', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'up' } }] }] }],
        listeners: [
          listener('comp', [
            {
              type: 'compressor',
              config: { compressor_library: { name: 'gzip' }, request_direction_config: { common_config: { min_content_length: 100 } }, offload_min_bytes: 1 << 20 },
            },
          ]),
          listener('decomp', [{ type: 'decompressor', config: { decompressor_library: { name: 'gzip' }, offload_min_bytes: 8 * 1024 } }]),
        ],
      },
    ],
    cluster_manager: { clusters: [{ name: 'up', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: upAddress }] }] },
    ringside: { admin: { address: '127.0.0.1:0' }, drain_timeout: 200, limits: { max_body_bytes: MAX_BODY }, offload: { threads: 1 } },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-compression-h2-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(config));
  const child = startChild(main, ['start', '-c', file, '--workers', '1']);
  const sessions: http2.ClientHttp2Session[] = [];
  try {
    const ready = await child.waitStdout(/^ringside ready:/, 20_000);
    const connect = (name: string): http2.ClientHttp2Session => {
      const s = http2.connect(`http://${new RegExp(`${name}@([^,\\s]+)`).exec(ready)![1]!}`);
      s.on('error', () => {});
      sessions.push(s);
      return s;
    };
    const comp = connect('comp');
    const decomp = connect('decomp');
    const last = (path: string): Seen => seen.filter((s) => s.path === path).at(-1)!;

    // Compressor, response: the announced-length body is gzipped and its trailers come after it.
    const zipped = await exchange(comp, { ':path': '/json-trailers', 'accept-encoding': 'gzip' });
    assert.equal(zipped.rstCode, 0);
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(zipped.headers['content-length'], undefined);
    assert.equal(gunzipSync(zipped.body).toString(), page);
    assert.equal(zipped.trailers['x-checksum'], String(page.length));

    // Compressor, request: the upstream gets the gzipped body, then the request's trailers.
    const up = await exchange(comp, { ':method': 'POST', ':path': '/in', 'content-type': 'application/json', 'content-length': page.length }, Buffer.from(page), { 'x-sig': 'abc' });
    assert.equal(up.status, 200);
    assert.equal(last('/in').headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(last('/in').body).toString(), page);
    assert.equal(last('/in').trailers['x-sig'], 'abc');

    // Decompressor, request: plain to the upstream — with trailers after it (large: on the pool),
    // and without (small: inline).
    const gz = gzipSync(page);
    assert.ok(gz.length >= 8 * 1024);
    const post = (path: string, body: Buffer, trailers?: Record<string, string>) =>
      exchange(decomp, { ':method': 'POST', ':path': path, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body, trailers);
    assert.equal((await post('/plain-with-trailers', gz, { 'x-sig': 'def' })).status, 200);
    assert.equal(last('/plain-with-trailers').headers['content-encoding'], undefined);
    assert.equal(last('/plain-with-trailers').body.toString(), page);
    assert.equal(last('/plain-with-trailers').trailers['x-sig'], 'def');
    assert.equal((await post('/plain', gzipSync('{"small":true}'))).status, 200);
    assert.equal(last('/plain').body.toString(), '{"small":true}');
    assert.match(String(last('/plain').headers['accept-encoding']), /gzip/, 'responses are decompressed: gzip is advertised upstream');

    // Decompressor, response: plain to the client, with and without trailers.
    const plain = await exchange(decomp, { ':path': '/gzip' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), page);
    const plainTrailed = await exchange(decomp, { ':path': '/gzip-trailers' });
    assert.equal(plainTrailed.rstCode, 0);
    assert.equal(plainTrailed.headers['content-encoding'], undefined);
    assert.equal(plainTrailed.body.toString(), page);
    assert.equal(plainTrailed.trailers['x-checksum'], String(gz.length));

    // Bombs, while /slow is open on the same connection: the request bomb is answered 413, the
    // response bomb is reset; /slow then completes and the connection serves on.
    const slow = exchange(decomp, { ':path': '/slow' });
    while (!seen.some((s) => s.path === '/slow')) await new Promise((r) => setTimeout(r, 5));
    const bomb = gzipSync(Buffer.alloc(4 * MAX_BODY));
    const refused = await post('/request-bomb', bomb);
    assert.equal(refused.status, 413);
    assert.match(refused.body.toString(), /max_body_bytes/);
    const cut = await exchange(decomp, { ':path': '/bomb' });
    assert.notEqual(cut.rstCode, 0, 'the response bomb is reset');
    assert.notEqual(cut.body.length, 4 * MAX_BODY);
    releaseSlow();
    const done = await slow;
    assert.equal(done.status, 200);
    assert.equal(done.rstCode, 0);
    assert.equal(done.body.toString(), 'slow done');
    assert.equal(decomp.closed || decomp.destroyed, false, 'the connection is still up');
    assert.equal((await exchange(decomp, { ':path': '/gzip' })).body.toString(), page);
    const bombUp = last('/request-bomb');
    assert.equal(bombUp.body.length, 0, 'no byte of the request bomb reached the upstream');
    assert.equal(bombUp.rstCode, http2.constants.NGHTTP2_CANCEL, 'its upstream stream was cancelled');
  } finally {
    for (const s of sessions) s.destroy();
    child.kill();
    await child.exited;
    upstream.close();
  }
});
