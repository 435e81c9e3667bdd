/**
 * The JSON form of a call on the request-id channels (content type `application/json`): `data` is a
 * JSON array of arguments, or `{"args": [...], "argTypes": ["int", "java.lang.String", …]}` naming the
 * Java type of each. Without argTypes each type is inferred from its JSON value.
 */
import { RingsideError } from '../../common/errors.js';
import { descriptorOf, inferJavaType, toJavaArgument } from '../../protocol/dubbo/descriptor.js';

export interface JsonCall {
  readonly args: unknown[];
  /** Java type names, one per argument. */
  readonly argTypes: string[];
}

function bad(message: string): RingsideError {
  return new RingsideError('BAD_REQUEST', 'downstream', message);
}

export function parseJsonCall(data: Uint8Array): JsonCall {
  let v: unknown;
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  try {
    v = text.trim() === '' ? [] : JSON.parse(text);
  } catch (err) {
    throw bad(`data is not JSON: ${(err as Error).message}`);
  }
  let args: unknown;
  let argTypes: unknown;
  if (Array.isArray(v)) args = v;
  else if (v !== null && typeof v === 'object' && Array.isArray((v as { args?: unknown }).args)) {
    args = (v as { args: unknown[] }).args;
    argTypes = (v as { argTypes?: unknown }).argTypes;
  } else throw bad('data must be a JSON array of arguments or {"args": [...], "argTypes": [...]}');
  const list = args as unknown[];
  if (argTypes === undefined) return { args: list, argTypes: list.map(inferJavaType) };
  if (!Array.isArray(argTypes) || argTypes.length !== list.length || !argTypes.every((t) => typeof t === 'string' && t !== '')) {
    throw bad(`argTypes must be an array of ${list.length} Java type name(s), one per argument`);
  }
  for (const t of argTypes as string[]) {
    try {
      descriptorOf(t);
    } catch (err) {
      throw bad(`argTypes: ${(err as Error).message}`);
    }
  }
  return { args: list, argTypes: argTypes as string[] };
}

/** The arguments tagged with their Java types, and the parameter descriptor. */
export function javaArguments(call: JsonCall): { args: unknown[]; descriptor: string } {
  return { args: call.args.map((a, i) => toJavaArgument(call.argTypes[i]!, a)), descriptor: call.argTypes.map(descriptorOf).join('') };
}

/**
 * JSON for a decoded hessian value. Java byte[] (a Buffer) becomes base64 text instead of JSON's
 * {"type":"Buffer"} shape, and a Map becomes an object.
 */
export function resultJson(value: unknown): Buffer {
  return Buffer.from(
    JSON.stringify(value === undefined ? null : value, function (this: unknown, key: string, v: unknown) {
      const raw = (this as Record<string, unknown>)[key];
      if (Buffer.isBuffer(raw)) return raw.toString('base64');
      if (raw instanceof Map) return Object.fromEntries(raw);
      return v;
    }),
    'utf8',
  );
}
