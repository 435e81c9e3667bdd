/**
 * Relaying gob values between streams (what the geerpc proxy does): definitions are re-sent under
 * the receiving stream's own ids, recursive types included, and value bytes travel unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GobDecoder, GobEncoder, GobRelaySender, gobMessageAt, shapeOf, type GobShape } from '../../../src/protocol/gob/index.js';
import { GobWriter } from '../../../src/protocol/gob/wire.js';

/** Splits a stream's bytes into message bodies. */
function messages(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const m = gobMessageAt(buf, pos, 1 << 20) as { start: number; end: number };
    out.push(buf.subarray(m.start, m.end));
    pos = m.end;
  }
  return out;
}

test('a recursive type (type Node struct { Val int; Next *Node }) is re-defined under the next stream ids and its value decodes there', () => {
  // Stream A: Node is id 66 there (65 was taken by something else), Next refers to Node itself.
  const enc = new GobEncoder();
  const defA = Buffer.concat([
    enc.definition(65, { SliceT: { CommonType: { Name: '[]string', Id: 65 }, Elem: 6 } }),
    enc.definition(66, { StructT: { CommonType: { Name: 'Node', Id: 66 }, Field: [{ Name: 'Val', Id: 2 }, { Name: 'Next', Id: 66 }] } }),
  ]);
  // Node{Val: 1, Next: &Node{Val: 2}}: field 0 (delta 1) int 1, field 1 (delta 1) struct { delta 1, int 2, end }, end.
  const w = new GobWriter();
  w.int(66);
  w.uint(1); w.int(1); w.uint(1); w.uint(1); w.int(2); w.byte(0); w.byte(0);
  const valueA = w.message();
  const a = new GobDecoder();
  assert.deepEqual(a.feed(Buffer.concat([defA, valueA])), [{ Val: 1, Next: { Val: 2, Next: null } }]);
  const body = messages(valueA)[0]!;
  const scanned = a.scanValue(body, 0, body.length);
  assert.equal(scanned.id, 66);
  const shape = shapeOf(a, 66) as GobShape;
  assert.equal(shape.types.length, 1, 'the shape holds Node once; its self-reference points at index 0');

  // Stream B has used ids 65..69 already: Node becomes 70 there, referring to 70.
  const b = new GobRelaySender(70);
  const out: Buffer[] = [];
  const id = b.idOf(shape, out);
  assert.equal(id, 70);
  assert.equal(out.length, 1);
  assert.equal(b.idOf(shape, out), 70, 'a type is defined once per stream');
  assert.equal(out.length, 1);
  const relayed = b.value(id, body.subarray(scanned.valueStart));
  const dec = new GobDecoder();
  // The receiving decoder needs 65..69 not to exist for this test: ids are only labels.
  assert.deepEqual(dec.feed(Buffer.concat([...out, relayed])), [{ Val: 1, Next: { Val: 2, Next: null } }]);
  assert.equal(dec.wireType(70)?.kind, 'struct');
  assert.deepEqual((dec.wireType(70) as unknown as { fields: { id: number }[] }).fields.map((f) => f.id), [2, 70]);

  // The same type defined on another stream under other ids has the same shape key.
  const c = new GobDecoder();
  c.feed(enc.definition(65, { StructT: { CommonType: { Name: 'Node', Id: 65 }, Field: [{ Name: 'Val', Id: 2 }, { Name: 'Next', Id: 65 }] } }));
  assert.equal((shapeOf(c, 65) as GobShape).key, shape.key);
});

test('a value that does not match its definitions is refused by the scan', () => {
  const enc = new GobEncoder();
  const bytes = enc.encode({ Num1: 1, Num2: 2 });
  const dec = new GobDecoder();
  const msgs = messages(bytes);
  dec.decodeMessage(msgs[0]!, 0, msgs[0]!.length);
  const value = Buffer.from(msgs[1]!);
  // After the id (FF 82 = 65), field delta 3 points past the struct's two fields.
  assert.deepEqual([...value.subarray(0, 2)], [0xff, 0x82]);
  value[2] = 3;
  assert.throws(() => dec.scanValue(value, 0, value.length), /field number 2 out of range/);
  // A truncated value.
  assert.throws(() => dec.scanValue(msgs[1]!, 0, msgs[1]!.length - 2), /unexpected end|extra data|exceeds/);
});
