/**
 * The decompressor stream filter in a real `ringside start`: a node:http client sends gzip and
 * brotli request bodies and the upstream sees them plain (the large one decompressed on the piscina
 * pool, the small one on the worker); the response direction hands the client a plain body the
 * upstream gzipped because the request advertised gzip; chunked bodies that end in trailers reach
 * the other side plain, trailers after them, in both directions; a request decompression bomb is answered 413
 * and corrupt bytes 400 while the same keep-alive connection goes on serving; a response bomb
 * resets that response instead of delivering it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, Agent, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { startChild } from '../supervisor/helpers.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const MAX_BODY = 256 * 1024;

interface Seen {
  encoding: string | undefined;
  length: string | undefined;
  accept: string | undefined;
  body: string;
  trailers: Record<string, string | undefined>;
}

function call(
  address: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer; agent?: Agent | false; trailers?: Record<string, string> } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer; trailers: Record<string, string | undefined> }> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = request(
      { host: address.slice(0, i), port: Number(address.slice(i + 1)), path, method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          res.complete ? resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), trailers: res.trailers }) : reject(new Error('incomplete response')),
        );
      },
    );
    req.on('error', reject);
    if (opts.trailers !== undefined) {
      // Chunked (no Content-Length), the body in two pieces, then the trailers.
      const half = opts.body!.length >> 1;
      req.write(opts.body!.subarray(0, half));
      req.write(opts.body!.subarray(half));
      req.addTrailers(opts.trailers);
      req.end();
      return;
    }
    req.end(opts.body);
  });
}

test('decompressor: gzip and brotli bodies reach the upstream plain, responses reach the client plain, bombs are refused', async () => {
  const seen: Seen[] = [];
  const page = JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => ({ i, name: `item-${i}` })) });
  const upstream: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const h = req.headers;
      seen.push({ encoding: h['content-encoding'], length: h['content-length'], accept: h['accept-encoding'], body: Buffer.concat(chunks).toString(), trailers: req.trailers });
      if (req.url === '/chunked-trailers') {
        // Chunked, ending in trailers: the decompressor must deliver the plain body, then them.
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', trailer: 'x-checksum' });
        res.write(gzipSync(page));
        res.addTrailers({ 'x-checksum': 'c1' });
        res.end();
        return;
      }
      if (req.url === '/page' || req.url === '/bomb') {
        const body = req.url === '/page' ? gzipSync(page) : gzipSync(Buffer.alloc(4 * MAX_BODY));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
        res.end(body);
        return;
      }
      res.end('ok');
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const config = {
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'vh', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'up' } }] }] }],
        listeners: [
          {
            name: 'edge',
            address: '127.0.0.1:0',
            filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', upstream_protocol: 'Http1', router_config_name: 'r' } }] }],
            stream_filters: [
              { type: 'decompressor', config: { decompressor_library: { name: 'gzip' }, offload_min_bytes: 1024 } },
              { type: 'decompressor', config: { decompressor_library: { name: 'brotli' }, response_direction_config: { common_config: { enabled: false } } } },
            ],
          },
        ],
      },
    ],
    cluster_manager: { clusters: [{ name: 'up', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: `127.0.0.1:${(upstream.address() as AddressInfo).port}` }] }] },
    ringside: { admin: { address: '127.0.0.1:0' }, drain_timeout: 200, limits: { max_body_bytes: MAX_BODY }, offload: { threads: 1 } },
  };
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-decompressor-')), 'sidecar.json');
  writeFileSync(file, JSON.stringify(config));
  const child = startChild(main, ['start', '-c', file, '--workers', '1']);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const ready = await child.waitStdout(/^ringside ready:/, 20_000);
    const edge = /edge@([^,\s]+)/.exec(ready)![1]!;
    const admin = /admin listening on ([^\s"]+)/.exec(child.stderr())![1]!;
    const post = (body: Buffer, encoding: string) => call(edge, '/in', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body, agent });

    // Request bodies: gzip (large: on the pool), brotli (small: on the worker); a coding applied
    // before gzip stays listed.
    const gz = gzipSync(page);
    assert.ok(gz.length >= 1024);
    assert.equal((await post(gz, 'gzip')).status, 200);
    assert.equal((await post(brotliCompressSync('{"small":true}'), 'br')).status, 200);
    assert.equal((await post(gzipSync('{"x":1}'), 'identity, gzip')).status, 200);
    assert.deepEqual(seen.map((s) => [s.encoding, s.length, s.body.length]), [
      [undefined, undefined, page.length],
      [undefined, undefined, '{"small":true}'.length],
      ['identity', undefined, 7],
    ]);
    assert.equal(seen[0]!.body, page);
    assert.match(seen[0]!.accept ?? '', /gzip/, 'response decompression on: the request advertises gzip upstream');

    // A chunked request body that ends in trailers: the upstream gets it plain, then the trailers.
    const trailed = await call(edge, '/in', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', trailer: 'x-sig' }, body: gz, agent, trailers: { 'x-sig': 's1' } });
    assert.equal(trailed.status, 200);
    assert.deepEqual([seen.at(-1)!.encoding, seen.at(-1)!.body === page, seen.at(-1)!.trailers['x-sig']], [undefined, true, 's1']);

    // A bomb (1 KiB of gzip inflating past limits.max_body_bytes) and corrupt bytes: this stream
    // alone is refused, and the same keep-alive connection serves the next request.
    const bomb = gzipSync(Buffer.alloc(4 * MAX_BODY));
    const before = seen.length;
    const refused = await post(bomb, 'gzip');
    assert.equal(refused.status, 413);
    assert.match(refused.body.toString(), /max_body_bytes/);
    assert.equal((await post(Buffer.from('not gzip at all'), 'gzip')).status, 400);
    assert.equal((await post(gzipSync('{"after":true}'), 'gzip')).status, 200);
    assert.equal(seen.length, before + 1, 'neither refused request reached the upstream');
    assert.equal(seen.at(-1)!.body, '{"after":true}');

    // Responses: the upstream's gzip reaches the client plain, without Content-Encoding.
    const plain = await call(edge, '/page', { agent });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers['content-length'], undefined);
    assert.equal(plain.body.toString(), page);
    // A chunked gzip response ending in trailers: plain to the client, then the trailers.
    const chunked = await call(edge, '/chunked-trailers', { agent });
    assert.equal(chunked.headers['content-encoding'], undefined);
    assert.equal(chunked.body.toString(), page);
    assert.equal(chunked.trailers['x-checksum'], 'c1');
    // A response bomb: its head has left, so the response is reset rather than delivered.
    await assert.rejects(call(edge, '/bomb'), /incomplete response|aborted|socket hang up|ECONNRESET/);

    const stats = JSON.stringify(await (await fetch(`http://${admin}/stats`)).json());
    // Offloaded: the large request, the chunked request and response with trailers, the page.
    assert.ok(Number(/"decompressor\.decompressed_offload":(\d+)/.exec(stats)?.[1]) >= 4, stats);
    assert.match(stats, /"decompressor\.decompressed_inline":[1-9]/);
    assert.match(stats, /"decompressor\.too_large":2/);
  } finally {
    agent.destroy();
    child.kill();
    await child.exited;
    await new Promise<void>((r) => upstream.close(() => r()));
  }
});
