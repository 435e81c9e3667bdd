/**
 * The dRPC envelope messages (DAOS's drpc.proto, package `drpc`) and the ids convention. The schema is
 * written out here and compiled once by protobufjs, so encoding needs no generated code.
 */
import protobuf from 'protobufjs';

const DRPC_PROTO = `
syntax = "proto3";
package drpc;
message Call {
  int32 module = 1;
  int32 method = 2;
  int64 sequence = 3;
  bytes body = 4;
}
enum Status {
  SUCCESS = 0;
  SUBMITTED = 1;
  FAILURE = 2;
  UNKNOWN_MODULE = 3;
  UNKNOWN_METHOD = 4;
  FAILED_UNMARSHAL_CALL = 5;
  FAILED_UNMARSHAL_PAYLOAD = 6;
  FAILED_MARSHAL = 7;
}
message Response {
  int64 sequence = 1;
  Status status = 2;
  bytes body = 3;
}
`;

import { Status } from './status.js';

export { Status };

export interface Call {
  module: number;
  method: number;
  /** int64 on the wire; numbers beyond 2^53 are not produced by Ringside's client. */
  sequence: number;
  body: Buffer;
}

export interface Response {
  sequence: number;
  status: Status;
  body: Buffer;
}

const root = protobuf.parse(DRPC_PROTO, { keepCase: true }).root;
export const CallType = root.lookupType('drpc.Call');
export const ResponseType = root.lookupType('drpc.Response');

function toBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Buffer.alloc(0);
}

export function encodeCall(call: Call): Uint8Array {
  return CallType.encode({ module: call.module, method: call.method, sequence: call.sequence, body: call.body }).finish();
}

export function encodeResponse(resp: Response): Uint8Array {
  return ResponseType.encode({ sequence: resp.sequence, status: resp.status, body: resp.body }).finish();
}

const VARINT = 0;
const LENGTH_DELIMITED = 2;

/**
 * Reads the fields of an envelope message with protobufjs's Reader, checking each known field's wire
 * type as Go's proto.Unmarshal does (protobufjs's generated decoders do not, and would read a
 * length-delimited field 1 as a module id); unknown fields are skipped.
 */
function readFields(bytes: Uint8Array, type: protobuf.Type, wires: Record<number, number>, onField: (id: number, r: protobuf.Reader) => void): void {
  const r = protobuf.Reader.create(bytes);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const id = tag >>> 3;
    const wire = tag & 7;
    if (id === 0) throw new Error(`${type.name}: field number 0`);
    const expected = wires[id];
    if (expected === undefined) {
      r.skipType(wire);
      continue;
    }
    if (wire !== expected) throw new Error(`${type.name}: field ${id} has wire type ${wire}, expected ${expected}`);
    onField(id, r);
  }
}

function longToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  // protobufjs returns a Long for int64 values when the long package is present.
  return (v as { toNumber(): number }).toNumber();
}

/** Throws when the bytes are not a Call. */
export function decodeCall(bytes: Uint8Array): Call {
  const call: Call = { module: 0, method: 0, sequence: 0, body: EMPTY };
  readFields(bytes, CallType, { 1: VARINT, 2: VARINT, 3: VARINT, 4: LENGTH_DELIMITED }, (id, r) => {
    if (id === 1) call.module = r.int32();
    else if (id === 2) call.method = r.int32();
    else if (id === 3) call.sequence = longToNumber(r.int64());
    else call.body = toBuffer(r.bytes());
  });
  return call;
}

/** Throws when the bytes are not a Response. */
export function decodeResponse(bytes: Uint8Array): Response {
  const resp: Response = { sequence: 0, status: Status.SUCCESS, body: EMPTY };
  readFields(bytes, ResponseType, { 1: VARINT, 2: VARINT, 3: LENGTH_DELIMITED }, (id, r) => {
    if (id === 1) resp.sequence = longToNumber(r.int64());
    else if (id === 2) resp.status = r.int32() as Status;
    else resp.body = toBuffer(r.bytes());
  });
  return resp;
}

const EMPTY = Buffer.alloc(0);

/**
 * DAOS numbers methods module by module: module m owns method ids m×100+1 … m×100+99, so a method id
 * alone says which module it belongs to.
 */
export const MODULE_METHOD_OFFSET = 100;

export function methodIdRange(moduleId: number): { first: number; last: number } {
  return { first: moduleId * MODULE_METHOD_OFFSET + 1, last: moduleId * MODULE_METHOD_OFFSET + 99 };
}

/** The message of an invalid module or method id, or undefined when it follows the convention. */
export function checkIds(moduleId: number, methodId?: number): string | undefined {
  if (!Number.isInteger(moduleId) || moduleId < 0 || moduleId > 21_474_835) return `module id ${moduleId} must be an integer in 0…21474835`;
  if (methodId === undefined) return undefined;
  const { first, last } = methodIdRange(moduleId);
  if (!Number.isInteger(methodId) || methodId < first || methodId > last) return `method id ${methodId} of module ${moduleId} must be in ${first}…${last}`;
  return undefined;
}

/**
 * google.rpc.Status without `details`: the body Ringside puts on a FAILURE it answers itself (an
 * invoker error, a proxy error), so the caller learns why where DAOS would send an empty body.
 */
const rpcStatusRoot = protobuf.parse('syntax = "proto3"; package google.rpc; message Status { int32 code = 1; string message = 2; }', { keepCase: true }).root;
export const RpcStatusType = rpcStatusRoot.lookupType('google.rpc.Status');

export { encodeRpcStatus } from './status.js';

export function decodeRpcStatus(body: Uint8Array): { code: number; message: string } {
  const o = RpcStatusType.toObject(RpcStatusType.decode(body), { defaults: true }) as { code: number; message: string };
  return { code: o.code, message: o.message };
}
