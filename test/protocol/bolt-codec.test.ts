import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { boltCodec, boltv2Codec } from '../../src/protocol/bolt/codec.js';
import { BoltStatus } from '../../src/protocol/bolt/constants.js';
import type { XDecodeResult, XRequest, XResponse } from '../../src/types/xprotocol.js';
import { XCommand } from '../../src/types/xprotocol.js';
import { FrameReader } from '../../src/protocol/xprotocol/frame-reader.js';

// sofa-bolt-node is the independent peer: its bytes must decode here and ours must decode there.
const require = createRequire(import.meta.url);
const sofaProtocol = require('sofa-bolt-node/lib/protocol') as {
  requestEncode(id: number, req: unknown, options: unknown): Buffer;
  responseEncode(id: number, res: unknown, options: unknown): Buffer;
  heartbeatEncode(id: number, hb: unknown, options: unknown): Buffer;
  decode(buf: Buffer, options: unknown): { packetId: number; packetType: string; data?: { appResponse?: unknown; error?: unknown } };
};

const limits = { maxHeaderBytes: 64 * 1024, maxContentBytes: 4 * 1024 * 1024 };

function frameOf(r: XDecodeResult): XRequest | XResponse {
  assert.equal(r.kind, 'frame', JSON.stringify(r.kind === 'error' ? r.error.message : r));
  return (r as Extract<XDecodeResult, { kind: 'frame' }>).frame;
}

function sofaRequest(id: number, opts: { protocolType?: string; crcEnable?: boolean } = {}): Buffer {
  const req = {
    serverSignature: 'com.example.Calc:1.0',
    methodName: 'plus',
    args: [
      { $class: 'int', $: 1 },
      { $class: 'int', $: 2 },
    ],
    timeout: 3000,
    requestProps: {},
  };
  return sofaProtocol.requestEncode(id, req, { protocolType: opts.protocolType ?? 'bolt', codecType: 'hessian2', boltVersion: 1, crcEnable: opts.crcEnable ?? false });
}

test('a sofa-bolt-node request decodes: id, timeout, class name, service header, opaque content', () => {
  const bytes = sofaRequest(77);
  const req = frameOf(boltCodec.decode(bytes, limits)) as XRequest;
  assert.equal(req.kind, 'request');
  assert.equal(req.requestId, 77);
  assert.equal(req.command, XCommand.Request);
  assert.equal(req.timeoutMs, 3000);
  assert.equal(req.headers.get('service'), 'com.example.Calc:1.0');
  assert.equal(req.path, 'com.example.Calc:1.0');
  assert.ok(req.content.length > 0);
  // Forwarded unchanged under another id, it is the same bytes but for the id.
  req.requestId = 5;
  const out = boltCodec.encode(req);
  assert.equal(out.length, bytes.length);
  assert.equal(out.readUInt32BE(5), 5);
  assert.deepEqual(out.subarray(9), bytes.subarray(9));
});

test('a response made here decodes in sofa-bolt-node with its status; a header edit re-encodes the header map', () => {
  const req = frameOf(boltCodec.decode(sofaRequest(9), limits)) as XRequest;
  const busy = boltCodec.reply(req, BoltStatus.SERVER_THREADPOOL_BUSY);
  busy.headers.set('x-ringside-error', 'OVERFLOW');
  const bytes = boltCodec.encode(busy);
  const back = frameOf(boltCodec.decode(bytes, limits)) as XResponse;
  assert.equal(back.requestId, 9);
  assert.equal(back.status, BoltStatus.SERVER_THREADPOOL_BUSY);
  assert.equal(back.headers.get('x-ringside-error'), 'OVERFLOW');
  const seen = sofaProtocol.decode(bytes, { sentReqs: new Map([[9, { req: { codecType: 'hessian2' } }]]) });
  assert.equal(seen.packetId, 9);
  assert.equal(seen.packetType, 'response');

  req.headers.set('x-extra', 'é');
  const edited = frameOf(boltCodec.decode(boltCodec.encode(req), limits)) as XRequest;
  assert.equal(edited.headers.get('x-extra'), 'é');
  assert.equal(edited.headers.get('service'), 'com.example.Calc:1.0');
  assert.deepEqual(edited.content, req.content);
});

test('boltv2 with the CRC switch: checked on decode, recomputed when the id changes; a bad CRC is a codec error with the id', () => {
  const bytes = sofaRequest(3, { protocolType: 'bolt2', crcEnable: true });
  assert.equal(bytes[0], 0x02);
  const req = frameOf(boltv2Codec.decode(bytes, limits)) as XRequest;
  assert.equal(req.requestId, 3);
  req.requestId = 1234;
  const forwarded = boltv2Codec.encode(req);
  assert.equal(frameOf(boltv2Codec.decode(forwarded, limits)).requestId, 1234);
  const bad = Buffer.from(bytes);
  bad[bad.length - 5] ^= 0xff; // a content byte: the CRC no longer matches
  const r = boltv2Codec.decode(bad, limits);
  assert.equal(r.kind, 'error');
  assert.match((r as { error: Error }).error.message, /CRC32/);
  assert.equal((r as { requestId: number }).requestId, 3);
  // bolt (v1) does not take proto 0x02; boltv2 takes 0x01 as well.
  assert.equal(boltCodec.decode(bytes, limits).kind, 'error');
  assert.equal(frameOf(boltv2Codec.decode(sofaRequest(4), limits)).requestId, 4);
});

test('heartbeats: sofa-bolt-node’s probe decodes as a heartbeat, the reply decodes there as its ack', () => {
  const hb = sofaProtocol.heartbeatEncode(11, {}, { protocolType: 'bolt', codecType: 'hessian2', boltVersion: 1 });
  const req = frameOf(boltCodec.decode(hb, limits)) as XRequest;
  assert.equal(req.command, XCommand.Heartbeat);
  const ack = sofaProtocol.decode(boltCodec.encode(boltCodec.heartbeatReply(req)), {});
  assert.equal(ack.packetType, 'heartbeat_ack');
  assert.equal(ack.packetId, 11);
});

test('bad bytes are errors, never throws: wrong magic, unknown type, a length past the limit, a header map overrunning its frame', () => {
  const wrong = boltCodec.decode(Buffer.from('GET / HTTP/1.1\r\n'), limits);
  assert.equal(wrong.kind, 'error');
  assert.equal((wrong as { requestId: unknown }).requestId, undefined);

  const badType = sofaRequest(1);
  badType[1] = 7;
  assert.equal(boltCodec.decode(badType, limits).kind, 'error');

  const huge = sofaRequest(21);
  huge.writeUInt32BE(0x7fffffff, 18); // contentLen
  const past = boltCodec.decode(huge.subarray(0, 22), limits);
  assert.equal(past.kind, 'error');
  assert.equal((past as { requestId: number }).requestId, 21);
  assert.match((past as { error: Error }).error.message, /passes the limit/);

  // A header section whose first key claims more bytes than the section has.
  const overrun = sofaRequest(22);
  const headerAt = 22 + overrun.readUInt16BE(14);
  overrun.writeUInt32BE(60_000, headerAt);
  const r = boltCodec.decode(overrun, limits);
  assert.equal(r.kind, 'error');
  assert.match((r as { error: Error }).error.message, /overruns/);
  assert.equal((r as { requestId: number }).requestId, 22);

  // A fragment is 'need', with the whole length once the fixed part is in.
  const whole = sofaRequest(23);
  assert.deepEqual(boltCodec.decode(whole.subarray(0, 10), limits), { kind: 'need', bytes: 0 });
  assert.deepEqual(boltCodec.decode(whole.subarray(0, 30), limits), { kind: 'need', bytes: whole.length });
});

test('the frame reader cuts frames from any split of the stream, one byte at a time included', () => {
  const stream = Buffer.concat([sofaRequest(1), sofaRequest(2), sofaRequest(3)]);
  for (const step of [1, 7, 64, stream.length]) {
    const ids: number[] = [];
    const reader = new FrameReader(boltCodec, limits, { onFrame: (f) => ids.push(f.requestId), onDecodeError: (e) => assert.fail(e.error.message) });
    for (let i = 0; i < stream.length; i += step) {
      const chunk = Buffer.from(stream.subarray(i, i + step));
      reader.feed(chunk);
      chunk.fill(0); // read buffers are reused: nothing may be kept by reference
    }
    assert.deepEqual(ids, [1, 2, 3], `step ${step}`);
    assert.equal(reader.idle, true);
  }
});

test('detect: bolt takes 0x01 request/response heads only, boltv2 0x01 and 0x02', () => {
  assert.equal(boltCodec.detect(sofaRequest(1)), 'match');
  assert.equal(boltCodec.detect(Buffer.from([0x01])), 'need-more');
  assert.equal(boltCodec.detect(Buffer.from([0x01, 0x09])), 'no');
  assert.equal(boltCodec.detect(Buffer.from([0xda, 0xbb])), 'no');
  assert.equal(boltv2Codec.detect(sofaRequest(1, { protocolType: 'bolt2' })), 'match');
  assert.equal(boltv2Codec.detect(sofaRequest(1)), 'match');
  assert.equal(boltCodec.detect(Buffer.from('POST / HTTP/1.1')), 'no');
});
