import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GobDecoder, GobEncoder, GobError, gob, inferType } from '../../../src/protocol/gob/index.js';

function roundTrip(values: { v: unknown; t?: Parameters<GobEncoder['encode']>[1] }[]): unknown[] {
  const enc = new GobEncoder();
  const dec = new GobDecoder();
  return values.flatMap(({ v, t }) => dec.feed(enc.encode(v, t)));
}

test('inference: integers → int, other numbers → float64, Buffer → []byte, arrays → slices, objects → structs', () => {
  assert.deepEqual(inferType({ A: 1, B: 1.5, C: 'x', D: true, E: Buffer.from('hi'), F: [1, 2.5], G: { H: 'y' } }), {
    kind: 'struct',
    name: '',
    fields: [
      { name: 'A', type: gob.int },
      { name: 'B', type: gob.float },
      { name: 'C', type: gob.string },
      { name: 'D', type: gob.bool },
      { name: 'E', type: gob.bytes },
      { name: 'F', type: gob.slice(gob.float) },
      { name: 'G', type: { kind: 'struct', name: '', fields: [{ name: 'H', type: gob.string }] } },
    ],
  });
});

test('nested structs, slices of structs, maps and arrays survive a round trip on one stream', () => {
  const Item = gob.struct('Item', { Name: gob.string, Qty: gob.uint });
  const Order = gob.struct('Order', {
    Id: gob.int,
    Items: gob.slice(Item),
    Tags: gob.map(gob.string, gob.int),
    Grid: gob.array(gob.float, 3),
    Owner: gob.struct('Owner', { Email: gob.string }),
    Blob: gob.bytes,
  });
  const order = {
    Id: -42,
    Items: [{ Name: 'a', Qty: 2 }, { Name: '', Qty: 0 }],
    Tags: new Map([['x', 1], ['y', -1]]),
    Grid: [0, 1.5, -2],
    Owner: { Email: 'o@example.com' },
    Blob: Buffer.from([0, 1, 2]),
  };
  const [back, again] = roundTrip([{ v: order, t: Order }, { v: { ...order, Id: 7 }, t: Order }]);
  assert.deepEqual(back, order);
  assert.deepEqual((again as { Id: number }).Id, 7);
  // Inferred types with the same shape reuse the stream's ids.
  const enc = new GobEncoder();
  const first = enc.encode({ A: 1 });
  const second = enc.encode({ A: 2 });
  assert.ok(first.length > second.length, 'the second value carries no type definition');
  assert.deepEqual(new GobDecoder().feed(Buffer.concat([first, second])), [{ A: 1 }, { A: 2 }]);
});

test('zero fields are omitted as Go omits them, and come back as zero values', () => {
  const T = gob.struct('T', { I: gob.int, S: gob.string, B: gob.bool, F: gob.float, L: gob.slice(gob.int), M: gob.map(gob.string, gob.int), N: gob.struct('N', { X: gob.int }) });
  const enc = new GobEncoder();
  enc.encode({}, T); // definitions out of the way
  // All zero except the (empty, non-nil) map and the nested struct, which Go always sends.
  const msg = enc.encode({ I: 0, S: '', B: false, F: 0, L: [], M: new Map(), N: { X: 0 } }, T);
  // len 7 | id 65 (ff 82) | delta 6 → M, 0 entries | delta 1 → N, its fields all zero: 00 | end 00
  assert.equal(msg.toString('hex'), '07ff820600010000');
  const dec = new GobDecoder();
  const [, v] = dec.feed(Buffer.concat([new GobEncoder().encode({}, T), msg]));
  assert.deepEqual(v, { I: 0, S: '', B: false, F: 0, L: [], M: new Map(), N: { X: 0 } });
  // Missing nested structs and maps are nil pointers / nil maps in Go: null here.
  const [bare] = new GobDecoder().feed(new GobEncoder().encode({}, T));
  assert.deepEqual(bare, { I: 0, S: '', B: false, F: 0, L: [], M: null, N: null });
});

test('large integers: bigint in and out past 2^53, numbers below', () => {
  const [a, b, c] = roundTrip([{ v: 2n ** 63n - 1n }, { v: 2n ** 64n - 1n, t: gob.uint }, { v: -(2 ** 52) }]);
  assert.equal(a, 2n ** 63n - 1n);
  assert.equal(b, 2n ** 64n - 1n);
  assert.equal(c, -(2 ** 52));
});

test('values that cannot be encoded fail with the path and a reason, and leave the stream usable', () => {
  const enc = new GobEncoder();
  const cases: [unknown, RegExp, Parameters<GobEncoder['encode']>[1]?][] = [
    [null, /nil|null/],
    [{ num1: 1 }, /"num1" is not an exported Go name/],
    [{ A: [] }, /empty array.*type hint.*at value\.A/],
    [[1, 'x'], /different types/],
    [{ A: -1 }, /cannot encode the integer -1 as uint.*value\.A/, gob.struct('S', { A: gob.uint })],
    [{ A: 1.5 }, /the number 1\.5 as int/, gob.struct('S', { A: gob.int })],
    [[1, 2], /exactly 3 elements/, gob.array(gob.int, 3)],
    [() => 1, /cannot encode a function/],
    [new Date(), /Date.*type hint/],
  ];
  for (const [v, re, t] of cases) assert.throws(() => enc.encode(v, t), (e: unknown) => e instanceof GobError && re.test(e.message), String(re));
  // The failed encodes assigned no ids: the first real type is still 65.
  assert.equal(enc.encode({ X: 1 }).subarray(1, 3).toString('hex'), 'ff81');
});

test('malformed streams fail with a GobError: truncation inside a message, unknown ids, limits, extra bytes', () => {
  const good = new GobEncoder().encode({ A: 'x' });
  const bad: [Buffer, RegExp, number?][] = [
    [Buffer.from('05ff82010178', 'hex'), /used before it was defined/], // value of an undefined id
    [Buffer.from('03040006f7', 'hex'), /invalid message length prefix/],
    [Buffer.from('0404000600', 'hex'), /extra data/],
    [Buffer.from('03040106', 'hex'), /non-zero delta/],
    [Buffer.from('00', 'hex'), /empty message/],
    [Buffer.from('fe0100', 'hex'), /exceeds the limit of 100/, 100],
    [Buffer.concat([good.subarray(0, good.length - 7), Buffer.from('04ff820900', 'hex')]), /field number 8 out of range/],
    [Buffer.from('03ff8100', 'hex'), /sets 0 kinds/],
    [Buffer.from('02ff8d', 'hex').subarray(0, 3), /unexpected end|invalid/],
    [Buffer.from('030c000a', 'hex'), /string of 10 bytes exceeds/], [Buffer.from('03030000', 'hex'), /type id 2 is reserved/],
  ];
  for (const [bytes, re, max] of bad) {
    const dec = new GobDecoder(max === undefined ? {} : { maxMessageBytes: max });
    assert.throws(() => dec.feed(bytes), (e: unknown) => e instanceof GobError && re.test(e.message), `${bytes.toString('hex')} → ${re}`);
  }
  // An incomplete message is simply waited for.
  const dec = new GobDecoder();
  assert.deepEqual(dec.feed(good.subarray(0, good.length - 1)), []);
  assert.deepEqual(dec.feed(good.subarray(good.length - 1)), [{ A: 'x' }]);
});

test('deep nesting from a peer is refused at the configured depth', () => {
  let t = gob.int;
  let v: unknown = 1;
  for (let i = 0; i < 10; i++) {
    t = gob.slice(t);
    v = [v];
  }
  const bytes = new GobEncoder().encode(v, t);
  assert.throws(() => new GobDecoder({ maxDepth: 5 }).feed(bytes), /deeper than 5/);
  assert.deepEqual(new GobDecoder({ maxDepth: 20 }).feed(bytes), [v]);
});

test('random and mutated bytes only ever yield values or a GobError, never another exception', () => {
  const T = gob.struct('T', { A: gob.slice(gob.struct('E', { K: gob.map(gob.string, gob.float), B: gob.bytes })), C: gob.array(gob.uint, 2) });
  const good = new GobEncoder().encode({ A: [{ K: new Map([['k', 1.5]]), B: Buffer.from('zz') }], C: [1, 2] }, T);
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    const bytes = i % 2 === 0 ? Buffer.from(good) : Buffer.from(Array.from({ length: 1 + rand(40) }, () => rand(256)));
    if (i % 2 === 0) for (let j = 0; j < 1 + rand(4); j++) bytes[rand(bytes.length)] = rand(256);
    try {
      new GobDecoder({ maxMessageBytes: 1024 }).feed(bytes);
    } catch (e) {
      assert.ok(e instanceof GobError, `${bytes.toString('hex')}: ${String(e)}`);
    }
  }
});

test('encodeMany is all or nothing: a body that fails leaves no half-sent header definition behind', () => {
  const Header = gob.struct('Header', { ServiceMethod: gob.string, Seq: gob.uint, Error: gob.string });
  const enc = new GobEncoder();
  assert.throws(() => enc.encodeMany([[{ ServiceMethod: 'A.B', Seq: 1, Error: '' }, Header], [{ lower: 1 }, undefined]]), GobError);
  // The next header still carries Header's definition, as id 65.
  const again = enc.encodeMany([[{ ServiceMethod: 'A.B', Seq: 1, Error: '' }, Header], [1, undefined]]);
  assert.equal(again.subarray(0, 3).toString('hex'), '38ff81');
  assert.deepEqual(new GobDecoder().feed(again), [{ ServiceMethod: 'A.B', Seq: 1, Error: '' }, 1]);
});
