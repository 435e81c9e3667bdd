/**
 * The compressor stream filter through a real proxy: gzip and brotli responses when the client
 * accepts them, Envoy's skip rules, request-body compression toward the upstream, and large bodies
 * compressed on the piscina offload pool while small ones are compressed on the worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { OffloadPool } from '../../src/worker/offload.js';
import { acceptsEncoding } from '../../src/stream/filters/compressor.js';
import { cluster, proxyConfig, startDataplane, startUpstream } from '../proxy/harness.js';

const small = JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => ({ i, name: `item-${i}` })) });
const large = JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => ({ i, name: `item-${i}` })) });

function get(address: string, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('Accept-Encoding negotiation follows RFC 9110: q=0 refuses, * matches', () => {
  assert.equal(acceptsEncoding('gzip, br;q=0.5', 'br'), true);
  assert.equal(acceptsEncoding('gzip;q=0', 'gzip'), false);
  assert.equal(acceptsEncoding('*', 'gzip'), true);
  assert.equal(acceptsEncoding('*, gzip;q=0', 'gzip'), false);
  assert.equal(acceptsEncoding(undefined, 'gzip'), false);
});

test('responses are compressed with gzip or brotli when accepted; small inline, large on the piscina pool', async () => {
  const up = await startUpstream((req, res) => {
    if (req.url === '/echo-request') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-seen-encoding', String(req.headers['content-encoding'] ?? ''));
        res.setHeader('x-seen-length', String(Buffer.concat(chunks).length));
        res.end(Buffer.concat(chunks).length === 0 ? '{}' : gunzipSync(Buffer.concat(chunks)));
      });
      return;
    }
    const body = req.url === '/large' ? large : req.url === '/tiny' ? '{}' : small;
    res.setHeader('content-type', req.url === '/png' ? 'image/png' : 'application/json; charset=utf-8');
    res.setHeader('etag', '"v1"');
    res.setHeader('content-length', Buffer.byteLength(body));
    res.end(body);
  });
  const pool = new OffloadPool({ threads: 1 });
  const dp = await startDataplane(
    proxyConfig({
      routes: [{ match: { prefix: '/' }, route: { cluster_name: 'up' } }],
      clusters: [cluster('up', [up.address])],
      streamFilters: [
        { type: 'compressor', config: { compressor_library: { name: 'brotli' }, offload_min_bytes: 65536 } },
        {
          type: 'compressor',
          config: {
            compressor_library: { name: 'gzip', typed_config: { compression_level: 5 } },
            offload_min_bytes: 65536,
            request_direction_config: { common_config: { min_content_length: 100 } },
          },
        },
      ],
    }),
    { worker: { offload: pool } },
  );
  const address = dp.addresses.get('ingress')!;
  try {
    const gz = await get(address, '/small', { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers['vary'], 'Accept-Encoding');
    assert.equal(gz.headers['etag'], 'W/"v1"');
    assert.equal(gz.headers['content-length'], undefined);
    assert.equal(gunzipSync(gz.body).toString(), small);
    assert.equal(pool.stats().completed, 0, 'a small body is compressed on the worker');

    const br = await get(address, '/large', { 'accept-encoding': 'br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(br.body).toString(), large);
    assert.ok(br.body.length < large.length / 4);
    assert.equal(pool.stats().completed, 1, 'a large body is compressed on the piscina pool');

    // Envoy's skip rules: not accepted, tiny, unlisted type, HEAD.
    const plain = await get(address, '/small');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), small);
    assert.equal((await get(address, '/tiny', { 'accept-encoding': 'gzip' })).headers['content-encoding'], undefined);
    assert.equal((await get(address, '/png', { 'accept-encoding': 'gzip' })).headers['content-encoding'], undefined);
    const head = await get(address, '/small', { 'accept-encoding': 'gzip' }, 'HEAD');
    assert.equal(head.headers['content-encoding'], undefined);
    assert.equal(head.body.length, 0);

    // Request direction: the upstream receives the body gzip-compressed, with the header saying so.
    const sent = await get(address, '/echo-request', { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(small)) }, 'POST', small);
    assert.equal(sent.headers['x-seen-encoding'], 'gzip');
    assert.ok(Number(sent.headers['x-seen-length']) < Buffer.byteLength(small));
    assert.equal(sent.body.toString(), small);
  } finally {
    await dp.close();
    await up.close();
    await pool.close();
  }
});
