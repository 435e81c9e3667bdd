/**
 * The dubbo codec against dubbo-remoting's own encoder and decoder (the Node.js Dubbo protocol peer):
 * bytes one side writes, the other reads, and the same bytes where both write the same message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { RingsideError } from '../../src/common/errors.js';
import {
  DubboStatus,
  FrameReader,
  createDubboRequestDecoder,
  createDubboResponseDecoder,
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
  rewriteId,
  toJavaArgument,
  valueResponse,
  type DubboRawFrame,
  type DubboRequest,
  type DubboResponse,
  type FramingFault,
} from '../../src/protocol/dubbo/index.js';
import { RingsideError as RError } from '../../src/common/errors.js';

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

function frames(chunks: Buffer[], max = 1 << 20): { frames: { flag: number; status: number; id: bigint; bytes: Buffer }[]; faults: FramingFault[] } {
  const out: { flag: number; status: number; id: bigint; bytes: Buffer }[] = [];
  const faults: FramingFault[] = [];
  const r = new FrameReader(
    {
      onFrame: (f: DubboRawFrame) => void out.push({ flag: f.flag, status: f.status, id: f.id, bytes: Buffer.from(f.bytes) }),
      onFault: (f) => void faults.push(f),
    },
    max,
  );
  for (const c of chunks) r.push(c);
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
  assert.equal(got[0]!.id, 7n);
  assert.equal(got[0]!.flag, 0xc2, 'request | two-way | hessian2');
  const body = got[0]!.bytes.subarray(16);
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

test('the request decoder puts service, version, method and (from the attachments) group into headers, and keeps the bytes', async () => {
  const bytes = await remotingBytes(calcRequest);
  const seen: DubboRequest[] = [];
  const errors: RingsideError[] = [];
  const dec = createDubboRequestDecoder({
    onHead: (h) => void seen.push(h),
    onBody: () => {},
    onComplete: () => {},
    onError: (e) => void errors.push(e),
  });
  // One byte at a time: every split point of header and body.
  for (let i = 0; i < bytes.length; i++) dec.execute(bytes.subarray(i, i + 1));
  assert.deepEqual(errors, []);
  assert.equal(seen.length, 1);
  const req = seen[0]!;
  assert.equal(req.path, 'com.example.Calc');
  assert.equal(req.method, 'plus');
  assert.equal(req.headers.get('service'), 'com.example.Calc');
  assert.equal(req.headers.get('version'), '1.0.0');
  assert.equal(req.headers.get('method'), 'plus');
  assert.equal(req.headers.get('group'), 'g1');
  assert.ok(req.bytes.equals(bytes), 'forwarded bytes are the bytes received');
  assert.equal(dec.idle, true);
});

test('an invocation Ringside encodes is read by dubbo-remoting as the same call', async () => {
  const bytes = encodeInvocation({
    id: 42n,
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
  assert.ok(heartbeatRequest(8n).equals(hb), `${heartbeatRequest(8n).toString('hex')} vs ${hb.toString('hex')}`);
  const ack = await remotingBytes((enc) => enc.writeHeartbeatAck({ packetId: 8, options: { protocolType: 'dubbo', codecType: 'hessian2' } }));
  assert.ok(heartbeatResponse(8n).equals(ack), `${heartbeatResponse(8n).toString('hex')} vs ${ack.toString('hex')}`);
  const [p] = await remotingReads(heartbeatResponse(8n));
  assert.equal(p!.packetType, 'heartbeat_ack');
});

test('value and error responses are byte for byte what dubbo-remoting writes', async () => {
  const opts = { protocolType: 'dubbo', codecType: 'hessian2' };
  const value = await remotingBytes((enc) => enc.writeResponse({ packetId: 9, options: opts }, { appResponse: 3 }));
  assert.ok(valueResponse(9n, 3).equals(value));
  const error = await remotingBytes((enc) => enc.writeResponse({ packetId: 11, options: opts }, { isError: true, errorMsg: 'boom' }));
  assert.ok(errorResponse(11n, DubboStatus.SERVER_ERROR, 'boom').equals(error));
  assert.deepEqual(decodeResult(DubboStatus.SERVER_ERROR, error.subarray(16)), { kind: 'error', status: 80, message: 'boom' });
});

test('results with and without attachments, null and exceptions decode on both sides', async () => {
  const att = { traceid: 't' };
  const cases: [Buffer, unknown][] = [
    [valueResponse(1n, { a: 1 }), { kind: 'value', value: { a: 1 }, attachments: {} }],
    [valueResponse(2n, 'x', att), { kind: 'value', value: 'x', attachments: att }],
    [valueResponse(3n, null), { kind: 'null', attachments: {} }],
    [valueResponse(4n, null, att), { kind: 'null', attachments: att }],
  ];
  for (const [bytes, want] of cases) assert.deepEqual(decodeResult(bytes[3]!, bytes.subarray(16)), want);
  const packets = await remotingReads(Buffer.concat(cases.map((c) => c[0])));
  assert.deepEqual(packets.map((p) => [p.packetId, p.data.appResponse, p.data.responseProps]), [
    [1, { a: 1 }, null],
    [2, 'x', att],
    [3, null, null],
    [4, null, att],
  ]);
  const ex = exceptionResponse(5n, { $class: 'java.lang.IllegalStateException', $: { detailMessage: 'nope' } });
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

test('frames split anywhere or coalesced come out whole; ids use the whole u64 range and rewrite in place', () => {
  const a = valueResponse(0xffff_ffff_ffff_fffen, 'x'.repeat(300));
  const b = heartbeatRequest(1n);
  const all = Buffer.concat([a, b, a]);
  for (const cut of [1, 2, 15, 16, 17, a.length - 1, a.length, a.length + 3]) {
    const got = frames([all.subarray(0, cut), all.subarray(cut)]);
    assert.deepEqual(got.faults, []);
    assert.deepEqual(got.frames.map((f) => f.id), [0xffff_ffff_ffff_fffen, 1n, 0xffff_ffff_ffff_fffen], `cut at ${cut}`);
    assert.ok(got.frames[2]!.bytes.equals(a));
  }
  const copy = Buffer.from(a);
  rewriteId(copy, 77n);
  assert.equal(readId(copy), 77n);
  assert.ok(copy.subarray(12).equals(a.subarray(12)), 'length and body untouched');
});

test('a wrong magic is refused on its first byte; a body past the limit is refused from the header, before it arrives', () => {
  const garbage = frames([Buffer.from('GET / HTTP/1.1\r\n')]);
  assert.equal(garbage.frames.length, 0);
  assert.equal(garbage.faults.length, 1);
  assert.equal(garbage.faults[0]!.kind, 'bad-magic');
  assert.equal(garbage.faults[0]!.id, undefined);
  const secondByte = frames([Buffer.from([0xda]), Buffer.from([0x00])]);
  assert.equal(secondByte.faults[0]?.kind, 'bad-magic');

  const header = valueResponse(5n, 'y'.repeat(2000)).subarray(0, 16);
  const tooLong = frames([header], 1024);
  assert.equal(tooLong.faults.length, 1);
  assert.equal(tooLong.faults[0]!.kind, 'too-long');
  assert.equal(tooLong.faults[0]!.id, 5n);
  assert.match(tooLong.faults[0]!.message, /over the limit of 1024/);

  const errors: RingsideError[] = [];
  const dec = createDubboRequestDecoder({ onHead: () => {}, onBody: () => {}, onComplete: () => {}, onError: (e) => void errors.push(e) }, { limits: { maxBodyBytes: 1024 } });
  dec.execute(encodeInvocation({ id: 3n, twoWay: true, service: 's', version: '', method: 'm', descriptor: 'Ljava/lang/String;', args: ['z'.repeat(4096)], attachments: {} }));
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.code, 'LIMIT_EXCEEDED');
  assert.equal(dec.lastFaultId, 3n);
});

test('a request body that is not a dubbo invocation is a BAD_REQUEST; a response on a request stream too', () => {
  const bad: RingsideError[] = [];
  const cb = { onHead: () => {}, onBody: () => {}, onComplete: () => {}, onError: (e: RingsideError) => void bad.push(e) };
  const notHessian = Buffer.from(heartbeatRequest(1n));
  notHessian[2] = 0xc2; // a two-way request (not an event) whose body is a lone null
  createDubboRequestDecoder(cb).execute(notHessian);
  createDubboRequestDecoder(cb).execute(valueResponse(2n, 1));
  assert.deepEqual(bad.map((e) => [e.code, e.source]), [
    ['BAD_REQUEST', 'downstream'],
    ['BAD_REQUEST', 'downstream'],
  ]);
});

test('the response decoder hands on each response by id with its bytes; heartbeat answers are marked', () => {
  const seen: DubboResponse[] = [];
  const dec = createDubboResponseDecoder({ onHead: (h) => void seen.push(h), onBody: () => {}, onComplete: () => {}, onError: assert.fail });
  dec.execute(Buffer.concat([valueResponse(9n, 3), heartbeatResponse(4n), errorResponse(2n, 60, 'no')]));
  assert.deepEqual(seen.map((r) => [r.streamId, r.status, r.heartbeat]), [
    [9n, 20, false],
    [4n, 20, true],
    [2n, 60, false],
  ]);
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
    const reply = dubboReplyOf(err);
    assert.deepEqual(reply, { status, message });
    const [p] = await remotingReads(errorResponse(1n, reply.status, reply.message));
    assert.equal(p!.data.error.message, message);
  }
});
