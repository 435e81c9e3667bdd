/**
 * Reading a gRPC status from response fields, as a gRPC client does (PROTOCOL-HTTP2.md): grpc-status
 * and the percent-encoded grpc-message from the trailers (or a Trailers-Only head); without
 * grpc-status, the HTTP status decides (http-grpc-status-mapping.md).
 */
import { GrpcCode, grpcCodeOfHttpStatus } from '../../common/errors.js';

/** The value of `name` in a flat [name, value, …] list (the first one). */
export function fieldValue(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** grpc-message is percent-encoded UTF-8; a broken encoding is shown as sent. */
export function decodeGrpcMessage(raw: string | undefined): string {
  if (raw === undefined || raw === '') return '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** grpc-message as gRPC writes it: printable ASCII but '%' as is, everything else percent-encoded. */
export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The status of a finished call from its head (with its HTTP status) and trailers. */
export function statusOf(head: readonly string[], trailers: readonly string[] | undefined): { code: number; message: string } {
  const source = trailers ?? head;
  const raw = fieldValue(source, 'grpc-status');
  if (raw !== undefined && /^\d+$/.test(raw)) return { code: Number(raw), message: decodeGrpcMessage(fieldValue(source, 'grpc-message')) };
  const http = Number(fieldValue(head, ':status') ?? '200');
  if (http !== 200) return { code: grpcCodeOfHttpStatus(http), message: `HTTP status ${http} without grpc-status` };
  return { code: GrpcCode.UNKNOWN, message: raw === undefined ? 'the call ended without a gRPC status' : `malformed grpc-status "${raw}"` };
}

/** The call's time left as grpc-timeout (at most 8 digits per unit). */
export function grpcTimeoutValue(ms: number): string {
  const m = Math.max(1, Math.ceil(ms));
  if (m < 1e8) return `${m}m`;
  return `${Math.min(99_999_999, Math.ceil(m / 1000))}S`;
}
