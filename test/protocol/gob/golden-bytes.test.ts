/**
 * Golden gob bytes. No Go toolchain runs in this suite, so these bytes stand in for a Go peer: each
 * one is derived by hand from the encoding/gob specification and Go's encoder (type.go assigns user
 * type ids from 65 in first-use order; encoder.go sends a type's definition before its first value,
 * omits zero struct fields and wraps top-level non-structs as a singleton field with delta 0).
 *
 * Notation below: a message is `len | id | value`; `uint n` < 128 is one byte; a signed int i is sent
 * as the uint 2i (i ≥ 0) or 2(-i)-1 (i < 0), so id 65 is 130 = `ff 82` (ff = "one byte follows") and
 * -65 is 129 = `ff 81`; a struct is a run of `field delta, value` pairs ended by a 0 delta.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GobDecoder, GobEncoder, gob } from '../../../src/protocol/gob/index.js';
import { Args, Header, args12, argsDef, ascii, header1, headerDef, hex } from './golden.js';

test('the Go doc example: Point{22, 33} is the 31-byte definition then 07 ff 82 01 2c 01 42 00', () => {
  const Point = gob.struct('Point', { X: gob.int, Y: gob.int });
  const bytes = new GobEncoder().encode({ X: 22, Y: 33 }, Point);
  assert.equal(
    bytes.toString('hex'),
    hex(`1f ff 81 03 01 01 05 50 6f 69 6e 74 01 ff 82 00
         01 02 01 01 58 01 04 00 01 01 59 01 04 00 00 00
         07 ff 82 01 2c 01 42 00`).toString('hex'),
  );
});

test("a geerpc client's first call writes Header (id 65) and Args (id 66) as a fresh Go encoder would", () => {
  const enc = new GobEncoder();
  const h = enc.encode({ ServiceMethod: 'Foo.Sum', Seq: 1, Error: '' }, Header);
  const b = enc.encode({ Num1: 1, Num2: 2 }, Args);
  assert.equal(h.toString('hex'), Buffer.concat([headerDef, header1]).toString('hex'));
  assert.equal(b.toString('hex'), Buffer.concat([argsDef, args12]).toString('hex'));
  // Types are defined once per stream: the second call is the value messages only.
  const h2 = enc.encode({ ServiceMethod: 'Foo.Sum', Seq: 2, Error: '' }, Header);
  assert.equal(h2.toString('hex'), hex(`0e ff 82 01 07 ${ascii('Foo.Sum')} 01 02 00`).toString('hex'));
  assert.equal(enc.encode({ Num1: 3, Num2: 0 }, Args).toString('hex'), '05ff84010600');
});

test("a server's reply: the int 3 is a singleton 03 04 00 06 (id int=2 → 04, delta 0, 3 → 06)", () => {
  const enc = new GobEncoder();
  enc.encode({ ServiceMethod: 'Foo.Sum', Seq: 1, Error: '' }, Header);
  assert.equal(enc.encode(3).toString('hex'), '03040006');
  // A zero singleton is still sent: there is no enclosing struct to omit it from.
  assert.equal(enc.encode(0).toString('hex'), '03040000');
});

test("an error reply's struct{} body: a nameless, fieldless struct definition then a bare terminator", () => {
  const enc = new GobEncoder();
  enc.encode({ ServiceMethod: 'Foo.Sum', Seq: 1, Error: 'boom' }, Header);
  // wireType{StructT: {CommonType{Name: "" (omitted), Id: 66}}}: delta 3 → StructT, delta 1 →
  // CommonType, delta 2 → Id (Name skipped), 00 00 00 closes CommonType, structType, wireType.
  const empty = gob.struct('', {});
  assert.equal(enc.encode({}, empty).toString('hex'), hex('0a ff 83 03 01 02 ff 84 00 00 00  03 ff 84 00').toString('hex'));
});

test('the golden bytes decode back, with omitted fields at their zero value, in any chunking', () => {
  const wire = Buffer.concat([headerDef, header1, argsDef, args12]);
  const expected = [{ ServiceMethod: 'Foo.Sum', Seq: 1, Error: '' }, { Num1: 1, Num2: 2 }];
  assert.deepEqual(new GobDecoder().feed(wire), expected);
  const dec = new GobDecoder();
  const got: unknown[] = [];
  for (let i = 0; i < wire.length; i++) got.push(...dec.feed(wire.subarray(i, i + 1)));
  assert.deepEqual(got, expected);
  assert.equal(dec.buffered, 0);
});

test("primitive encodings from the specification's examples", () => {
  const one = (v: unknown, t = gob.int): string => new GobEncoder().encode(v, t).subarray(3).toString('hex');
  // Message = len, id, delta 0, value: the value bytes are what follows the first three bytes.
  assert.equal(one(7, gob.uint), '07');
  assert.equal(one(256, gob.uint), 'fe0100'); // "256 is transmitted as (FE 01 00)"
  assert.equal(one(-129), 'fe0101'); // "-129=^128=(^256>>1) encodes as (FE 01 01)"
  assert.equal(one(17.0, gob.float), 'fe3140'); // "17.0 ... encodes as (FE 31 40)"
  assert.equal(one(18446744073709551615n, gob.uint), 'f8ffffffffffffffff');
  assert.equal(one(-9223372036854775808n), 'f8ffffffffffffffff');
  assert.equal(one(true, gob.bool), '01');
});
