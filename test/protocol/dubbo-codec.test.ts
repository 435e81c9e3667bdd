/**
 * The dubbo codec against dubbo-remoting's own encoder and decoder (the Node.js Dubbo protocol peer):
 * bytes one side writes, the other reads, and the same bytes where both write the same message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  DubboStatus,
  dubboCodec,
  decodeRequestHead,
  decodeRequestRest,
  decodeResult,
  detectDubbo,
  dubboReplyOf,
  encodeInvocation,
  errorResponse,
  exceptionResponse,
  heartbeatRequest,
  heartbeatResponse,
  readId,
  toJavaArgument,
  valueResponse,
  type DubboRequest,
  type DubboResponse,
} from '../../src/protocol/dubbo/index.js';
import { RingsideError as RError } from '../../src/common/errors.js';
import { FrameReader, type FrameErrorResult } from '../../src/protocol/xprotocol/frame-reader.js';
import { XCommand, type XFrame } from '../../src/types/xprotocol.js';

const require = createRequire(import.meta.url);
interface Packet { packetId: number; packetType: string; data: any }
interface DubboRemoting {
  encoder(opts: object): NodeJS.EventEmitter & {
    writeRequest(id: number, req: object): void;
    writeResponse(req: object, res: object): void;
    writeHeartbeat(id: number, hb: object): void;
    writeHeartbeatAck(hb: object): void;
  };
  decoder(opts: object): NodeJS.WritableStream & NodeJS.EventEmitter;
}
const remoting = require('dubbo-remoting') as DubboRemoting;
const java = require('js-to-java') as (t: string, v: unknown) => unknown;

/** Everything dubbo-remoting's encoder writes for `write`, concatenated. */
async function remotingBytes(write: (enc: ReturnType<DubboRemoting['encoder']>) => void): Promise<Buffer> {
  const enc = remoting.encoder({});
  const chunks: Buffer[] = [];
  enc.on('data', (c: Buffer) => chunks.push(c));
  write(enc);
  await new Promise((r) => setImmediate(r));
  return Buffer.concat(chunks);
}

/** What dubbo-remoting's decoder reads from `bytes`. */
async function remotingReads(bytes: Buffer): Promise<Packet[]> {
  const dec = remoting.decoder({});
  const out: Packet[] = [];
  for (const ev of ['request', 'heartbeat', 'response', 'heartbeat_ack']) dec.on(ev, (p: Packet) => out.push(p));
  await new Promise<void>((resolve, reject) => dec.write(bytes, (err?: Error | null) => (err ? reject(err) : resolve())));
  return out;
}

/** Frames the dubbo codec cuts from `chunks`, and the decode error that stopped it, if any. */
function frames(chunks: Buffer[], max = 1 << 20): { frames: XFrame[]; faults: FrameErrorResult[] } {
  const out: XFrame[] = [];
  const faults: FrameErrorResult[] = [];
  const r = new FrameReader(dubboCodec, { maxHeaderBytes: max, maxContentBytes: max }, { onFrame: (f) => void out.push(f), onDecodeError: (f) => void faults.push(f) });
  for (const c of chunks) r.feed(c);
  return { frames: out, faults };
}

const calcRequest = (enc: ReturnType<DubboRemoting['encoder']>) =>
  enc.writeRequest(7, {
    serverSignature: 'com.example.Calc:1.0.0',
    methodName: 'plus',
    args: [java('int', 1), java('int', 2)],
    group: 'g1',
    requestProps: { foo: 'bar' },
  });

test('a dubbo-remoting request decodes to its head, arguments and attachments (group among them)', async () => {
  const bytes = await remotingBytes(calcRequest);
  const { frames: got, faults } = frames([bytes]);
  assert.deepEqual(faults, []);
  assert.equal(got.length, 1);
  const req = got[0] as DubboRequest;
  assert.equal(req.requestId, 7);
  assert.equal(req.flag, 0xc2, 'request | two-way | hessian2');
  assert.equal(req.command, XCommand.Request);
  const body = req.content;
  const head = decodeRequestHead(body);
  assert.deepEqual(
    { v: head.dubboVersion, s: head.service, ver: head.version, m: head.method, d: head.descriptor },
    { v: '5.3.0', s: 'com.example.Calc', ver: '1.0.0', m: 'plus', d: 'II' },
  );
  const rest = decodeRequestRest(body, head);
  assert.deepEqual(rest.args, [1, 2]);
  assert.equal(rest.attachments['group'], 'g1');
  assert.equal(rest.attachments['foo'], 'bar');
});

test('the codec puts service, version, method and (from the attachments) group into headers, and forwards the bytes received', async () => {
  const bytes = await remotingBytes(calcRequest);
  // One byte at a time: every split point of header and body.
  const got = frames(Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)));
  assert.deepEqual(got.faults, []);
  assert.equal(got.frames.length, 1);
  const req = got.frames[0] as DubboRequest;
  assert.equal(req.path, 'com.example.Calc');
  assert.equal(req.method, 'plus');
  assert.equal(req.headers.get('service'), 'com.example.Calc');
  assert.equal(req.headers.get('version'), '1.0.0');
  assert.equal(req.headers.get('method'), 'plus');
  assert.equal(req.headers.get('group'), 'g1');
  req.requestId = 99;
  const out = dubboCodec.encode(req);
  assert.equal(readId(out), 99);
  assert.ok(out.subarray(12).equals(bytes.subarray(12)), 'forwarded as received, the id patched');
  // An edited header map is written back as the attachments; the head and arguments stay.
  req.headers.set('traceid', 'abc');
  req.headers.remove('foo');
  const [p] = await remotingReads(dubboCodec.encode(req));
  assert.equal(p!.packetId, 99);
  assert.deepEqual(p!.data.args, [1, 2]);
  assert.equal(p!.data.requestProps.traceid, 'abc');
  assert.equal(p!.data.requestProps.group, 'g1');
  assert.equal(p!.data.requestProps.foo, undefined);
});

test('an invocation Ringside encodes is read by dubbo-remoting as the same call', async () => {
  const bytes = encodeInvocation({
    id: 42,
    twoWay: true,
    service: 'com.example.Calc',
    version: '1.0.0',
    method: 'plus',
    descriptor: 'ILjava/lang/String;',
    args: [toJavaArgument('int', 5), toJavaArgument('java.lang.String', 'x')],
    attachments: { group: 'g2', traceid: 't-1' },
  });
  const [p] = await remotingReads(bytes);
  assert.equal(p!.packetType, 'request');
  assert.equal(p!.packetId, 42);
  assert.equal(p!.data.methodName, 'plus');
  assert.equal(p!.data.serverSignature, 'com.example.Calc:1.0.0');
  assert.deepEqual(p!.data.args, [5, 'x']);
  assert.deepEqual(p!.data.methodArgSigs, ['int', 'java.lang.String']);
  assert.equal(p!.data.requestProps.group, 'g2');
  assert.equal(p!.data.requestProps.traceid, 't-1');
});

test('heartbeats and their answers are byte for byte what dubbo-remoting writes', async () => {
  const hb = await remotingBytes((enc) => enc.writeHeartbeat(8, {}));
  assert.ok(heartbeatRequest(8).equals(hb), `${heartbeatRequest(8).toString('hex')} vs ${hb.toString('hex')}`);
  const ack = await remotingBytes((enc) => enc.writeHeartbeatAck({ packetId: 8, options: { protocolType: 'dubbo', codecType: 'hessian2' } }));
  assert.ok(heartbeatResponse(8).equals(ack), `${heartbeatResponse(8).toString('hex')} vs ${ack.toString('hex')}`);
  const [p] = await remotingReads(heartbeatResponse(8));
  assert.equal(p!.packetType, 'heartbeat_ack');
});

test('value and error responses are byte for byte what dubbo-remoting writes', async () => {
  const opts = { protocolType: 'dubbo', codecType: 'hessian2' };
  const value = await remotingBytes((enc) => enc.writeResponse({ packetId: 9, options: opts }, { appResponse: 3 }));
  assert.ok(valueResponse(9, 3).equals(value));
  const error = await remotingBytes((enc) => enc.writeResponse({ packetId: 11, options: opts }, { isError: true, errorMsg: 'boom' }));
  assert.ok(errorResponse(11, DubboStatus.SERVER_ERROR, 'boom').equals(error));
  assert.deepEqual(decodeResult(DubboStatus.SERVER_ERROR, error.subarray(16)), { kind: 'error', status: 80, message: 'boom' });
});

test('results with and without attachments, null and exceptions decode on both sides', async () => {
  const att = { traceid: 't' };
  const cases: [Buffer, unknown][] = [
    [valueResponse(1, { a: 1 }), { kind: 'value', value: { a: 1 }, attachments: {} }],
    [valueResponse(2, 'x', att), { kind: 'value', value: 'x', attachments: att }],
    [valueResponse(3, null), { kind: 'null', attachments: {} }],
    [valueResponse(4, null, att), { kind: 'null', attachments: att }],
  ];
  for (const [bytes, want] of cases) assert.deepEqual(decodeResult(bytes[3]!, bytes.subarray(16)), want);
  const packets = await remotingReads(Buffer.concat(cases.map((c) => c[0])));
  assert.deepEqual(packets.map((p) => [p.packetId, p.data.appResponse, p.data.responseProps]), [
    [1, { a: 1 }, null],
    [2, 'x', att],
    [3, null, null],
    [4, null, att],
  ]);
  const ex = exceptionResponse(5, { $class: 'java.lang.IllegalStateException', $: { detailMessage: 'nope' } });
  const r = decodeResult(ex[3]!, ex.subarray(16));
  assert.equal(r.kind, 'exception');
  const [p] = await remotingReads(ex);
  assert.ok(p!.data.error, 'dubbo-remoting sees an exception');
});

test("dubbo-remoting's bare falsy results (it writes 0, false and null without a result flag) read as those values", async () => {
  const opts = { protocolType: 'dubbo', codecType: 'hessian2' };
  for (const [v, want] of [
    [0, { kind: 'value', value: 0, attachments: {} }],
    [false, { kind: 'value', value: false, attachments: {} }],
    [null, { kind: 'null', attachments: {} }],
  ] as const) {
    const bytes = await remotingBytes((enc) => enc.writeResponse({ packetId: 1, options: opts }, { appResponse: v }));
    assert.deepEqual(decodeResult(bytes[3]!, bytes.subarray(16)), want, `result ${String(v)}`);
  }
});

test('frames split anywhere or coalesced come out whole; u64 ids up to 2^53 - 1 read exactly, past that is refused', () => {
  const big = Number.MAX_SAFE_INTEGER;
  const a = valueResponse(big, 'x'.repeat(300));
  const b = heartbeatRequest(1);
  const all = Buffer.concat([a, b, a]);
  for (const cut of [1, 2, 15, 16, 17, a.length - 1, a.length, a.length + 3]) {
    const got = frames([all.subarray(0, cut), all.subarray(cut)]);
    assert.deepEqual(got.faults, []);
    assert.deepEqual(got.frames.map((f) => f.requestId), [big, 1, big], `cut at ${cut}`);
    assert.equal((got.frames[1] as DubboRequest).command, XCommand.Heartbeat);
    assert.ok(dubboCodec.encode(got.frames[2]!).equals(a));
  }
  const past = Buffer.from(a);
  past.writeUInt32BE(0xffffffff, 4);
  const refused = frames([past]);
  assert.equal(refused.frames.length, 0);
  assert.match(refused.faults[0]!.error.message, /past 2\^53/);
});

test('a wrong magic is refused on its first byte; a body past the limit from the header, before it arrives', () => {
  const garbage = frames([Buffer.from('GET / HTTP/1.1\r\n')]);
  assert.equal(garbage.frames.length, 0);
  assert.equal(garbage.faults.length, 1);
  assert.match(garbage.faults[0]!.error.message, /bad magic/);
  assert.equal(garbage.faults[0]!.requestId, undefined);
  const secondByte = frames([Buffer.from([0xda]), Buffer.from([0x00])]);
  assert.match(secondByte.faults[0]!.error.message, /bad magic/);

  const header = encodeInvocation({ id: 5, twoWay: true, service: 's', version: '', method: 'm', descriptor: 'Ljava/lang/String;', args: ['z'.repeat(4096)], attachments: {} }).subarray(0, 16);
  const tooLong = frames([header], 1024);
  assert.equal(tooLong.faults.length, 1);
  assert.equal(tooLong.faults[0]!.error.code, 'LIMIT_EXCEEDED');
  assert.equal(tooLong.faults[0]!.requestId, 5);
  assert.equal(tooLong.faults[0]!.request, true);
  assert.match(tooLong.faults[0]!.error.message, /passes the limit of 1024/);
});

test('a request body that is not a dubbo invocation is bad bytes under its id; READONLY is a goaway', () => {
  const notHessian = Buffer.from(heartbeatRequest(1));
  notHessian[2] = 0xc2; // a two-way request (not an event) whose body is a lone null
  const bad = frames([notHessian]);
  assert.equal(bad.faults[0]!.error.code, 'BAD_REQUEST');
  assert.equal(bad.faults[0]!.requestId, 1);
  const readonly = frames([dubboCodec.encode(dubboCodec.goAway()!)]);
  assert.equal((readonly.frames[0] as DubboRequest).command, XCommand.GoAway);
});

test('responses come out by id with their status; heartbeat answers are marked and answer heartbeats byte for byte', async () => {
  const got = frames([Buffer.concat([valueResponse(9, 3), heartbeatResponse(4), errorResponse(2, 60, 'no')])]);
  assert.deepEqual(got.frames.map((r) => [r.requestId, (r as DubboResponse).status, (r as DubboResponse).heartbeat]), [
    [9, 20, false],
    [4, 20, true],
    [2, 60, false],
  ]);
  const hb = frames([await remotingBytes((enc) => enc.writeHeartbeat(8, {}))]).frames[0] as DubboRequest;
  assert.ok(dubboCodec.encode(dubboCodec.heartbeatReply(hb)).equals(heartbeatResponse(8)));
  assert.ok(dubboCodec.encode(dubboCodec.heartbeat(8)).equals(heartbeatRequest(8)));
});

test('detect answers from the magic; proxy errors become the status and message MOSN answers with, which dubbo clients read', async () => {
  assert.equal(detectDubbo(Buffer.from([0xda])), 'need-more');
  assert.equal(detectDubbo(Buffer.from([0xda, 0xbb])), 'match');
  assert.equal(detectDubbo(Buffer.from('GE')), 'no');
  const table: [RError, number, string][] = [
    [new RError('NO_ROUTE', 'internal', 'x'), 60, '404|router unavailable'],
    [new RError('NO_HEALTHY_HOST', 'upstream', 'x'), 60, '502|no health upstream'],
    [new RError('OVERFLOW', 'upstream', 'x'), 40, '503|upstream overflow'],
    [new RError('TIMEOUT', 'upstream', 'x'), 30, '504|timeout'],
    [new RError('BAD_REQUEST', 'downstream', 'x'), 70, '0|codec exception'],
  ];
  for (const [err, status, message] of table) {
    assert.deepEqual(dubboReplyOf(err), { status, message });
    const reply = dubboCodec.errorReply!(null, err);
    reply.requestId = 1;
    const bytes = dubboCodec.encode(reply);
    assert.equal(bytes[3], status);
    const [p] = await remotingReads(bytes);
    assert.equal(p!.data.error.message, message);
  }
});
