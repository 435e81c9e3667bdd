/**
 * The parts of dRPC's envelope that need no protobuf library: the drpc.Status values, the default
 * limits, and the google.rpc.Status body Ringside answers its own failures with (two fields, written
 * by hand). Code the main thread loads (the config loader, the composition root) imports these
 * rather than messages.ts, which compiles the envelope with protobufjs.
 */

/** drpc.Status values. */
export enum Status {
  SUCCESS = 0,
  SUBMITTED = 1,
  FAILURE = 2,
  UNKNOWN_MODULE = 3,
  UNKNOWN_METHOD = 4,
  FAILED_UNMARSHAL_CALL = 5,
  FAILED_UNMARSHAL_PAYLOAD = 6,
  FAILED_MARSHAL = 7,
}

/** File mode of a socket file unless configured: only the owner may connect. */
export const DEFAULT_SOCKET_MODE = 0o600;
/** Largest message a session or a client accepts unless configured. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

function varint(out: number[], n: number): void {
  let v = n;
  if (v < 0) {
    // int32 negatives are ten-byte varints (two's complement over 64 bits).
    let big = BigInt.asUintN(64, BigInt(v));
    while (big >= 0x80n) {
      out.push(Number(big & 0x7fn) | 0x80);
      big >>= 7n;
    }
    out.push(Number(big));
    return;
  }
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** google.rpc.Status {int32 code = 1; string message = 2;} without details. */
export function encodeRpcStatus(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  const head: number[] = [];
  if (code !== 0) {
    head.push(0x08);
    varint(head, code);
  }
  if (text.length > 0) {
    head.push(0x12);
    varint(head, text.length);
  }
  return Buffer.concat([Buffer.from(head), text]);
}
