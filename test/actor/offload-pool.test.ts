import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { OffloadPool } from '../../src/worker/offload.js';

test('offload tasks run on pool threads: gzip round trip and JSON re-encoding', async (t) => {
  const pool = new OffloadPool({ threads: 1 });
  t.after(() => pool.close());
  const body = Buffer.from('ringside '.repeat(2000));
  const zipped = await pool.run({ kind: 'gzip', data: body });
  assert.ok(zipped.byteLength < body.byteLength);
  assert.deepEqual(gunzipSync(zipped), body);
  const back = await pool.run({ kind: 'gunzip', data: zipped });
  assert.deepEqual(Buffer.from(back), body);
  const json = await pool.run({ kind: 'json.reencode', data: Buffer.from('{ "a" : [1, 2,\n 3] }'), indent: 0 });
  assert.equal(Buffer.from(json).toString(), '{"a":[1,2,3]}');
  const s = pool.stats();
  assert.equal(s.completed, 3);
  assert.equal(s.inline, 0);
});

test('a task failure rejects only that task', async (t) => {
  const pool = new OffloadPool({ threads: 1 });
  t.after(() => pool.close());
  await assert.rejects(pool.run({ kind: 'json.reencode', data: Buffer.from('{nope') }), /JSON/);
  await assert.rejects(pool.run({ kind: 'gunzip', data: Buffer.from('not gzip') }));
  const ok = await pool.run({ kind: 'json.reencode', data: Buffer.from('[1]') });
  assert.equal(Buffer.from(ok).toString(), '[1]');
});

test('resizing the pool keeps serving tasks and keeps stats monotonic; 0 threads runs inline', async (t) => {
  const pool = new OffloadPool({ threads: 1 });
  t.after(() => pool.close());
  await pool.run({ kind: 'gzip', data: Buffer.from('x') });
  await pool.resize(2);
  assert.equal(pool.threads, 2);
  const many = await Promise.all(Array.from({ length: 6 }, () => pool.run({ kind: 'gzip', data: Buffer.alloc(100_000, 7) })));
  assert.equal(many.length, 6);
  assert.equal(pool.stats().completed, 7);
  await pool.resize(0);
  await pool.run({ kind: 'gzip', data: Buffer.from('y') });
  assert.deepEqual({ threads: pool.stats().threads, inline: pool.stats().inline }, { threads: 0, inline: 1 });
  await assert.rejects(pool.resize(-1), RangeError);
});

test('bodies cross to the pool by transfer: a given body is moved (detached here), a pooled slice is copied, results come back exact', async (t) => {
  const { snapshotCounters } = await import('../../src/common/counters.js');
  const count = (name: string): number => snapshotCounters()[name] ?? 0;
  const pool = new OffloadPool({ threads: 1 });
  t.after(() => pool.close());
  const body = Buffer.allocUnsafeSlow(200_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 251;
  const expected = Buffer.from(body);
  const moved = count('offload.transferred');
  const zipped = await pool.run({ kind: 'gzip', data: body }, { give: true });
  assert.equal(body.byteLength, 0, 'the given body was moved to the pool thread, not cloned');
  assert.equal(count('offload.transferred'), moved + 1);
  assert.deepEqual(gunzipSync(zipped), expected);
  // zlib answers with a view into a larger chunk buffer; only the result's own bytes come back.
  assert.equal(zipped.buffer.byteLength, zipped.byteLength, 'the result arrives in an exact buffer of its own');

  // A small Buffer lives in Node's shared pool: it must never be detached, whatever the caller says.
  const neighbour = Buffer.from('a neighbour in the same pool slab');
  const small = Buffer.from('ringside '.repeat(20));
  assert.notEqual(small.buffer.byteLength, small.byteLength, 'the test needs a pooled slice');
  const copied = count('offload.copied');
  const out = await pool.run({ kind: 'gzip', data: small }, { give: true });
  assert.equal(count('offload.copied'), copied + 1);
  assert.equal(small.toString(), 'ringside '.repeat(20));
  assert.equal(neighbour.toString(), 'a neighbour in the same pool slab');
  assert.equal(gunzipSync(out).toString(), 'ringside '.repeat(20));
  // Without give the caller keeps its bytes, even when they span a buffer of their own.
  const kept = Buffer.allocUnsafeSlow(70_000).fill(3);
  await pool.run({ kind: 'gzip', data: kept });
  assert.equal(kept.byteLength, 70_000);
});
