/**
 * The Option a geerpc connection opens with: one JSON object, as Go's json.Encoder writes it
 * (`{"MagicNumber":3927900,"CodecType":"application/gob","ConnectTimeout":10000000000,"HandleTimeout":0}`
 * and a newline; durations in nanoseconds). Everything after it is the codec's stream.
 */
export const MAGIC_NUMBER = 0x3bef5c;
export const GOB_CODEC = 'application/gob';
export const JSON_CODEC = 'application/json';
export type CodecType = typeof GOB_CODEC | typeof JSON_CODEC;
export const CODEC_TYPES: readonly CodecType[] = [GOB_CODEC, JSON_CODEC];

export interface Option {
  MagicNumber: number;
  CodecType: string;
  /** Nanoseconds; 0 means no limit. */
  ConnectTimeout: number;
  /** Nanoseconds the server may take per call; 0 means no limit. */
  HandleTimeout: number;
}

/** The longest Option accepted; Go's is about 100 bytes, anything far longer is not geerpc. */
export const MAX_OPTION_BYTES = 4096;

export function encodeOption(opt: Option): Buffer {
  return Buffer.from(`${JSON.stringify(opt)}\n`);
}

export type OptionResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'option'; readonly option: Option; readonly rest: Buffer };

/**
 * Finds the end of the leading JSON object in a byte stream without reading past it, so bytes the
 * client sent right behind the Option stay with the codec (Go's server can lose them to its JSON
 * decoder's read-ahead; this one does not).
 */
export function readOption(buf: Buffer): OptionResult {
  let i = 0;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (i === buf.length) return buf.length > MAX_OPTION_BYTES ? { kind: 'error', message: 'options error: no JSON object' } : { kind: 'incomplete' };
  if (buf[i] !== 0x7b) return { kind: 'error', message: `options error: invalid character '${String.fromCharCode(buf[i]!)}' looking for beginning of value` };
  const start = i;
  let depth = 0;
  let inString = false;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) break;
    }
    if (i - start >= MAX_OPTION_BYTES) return { kind: 'error', message: `options error: longer than ${MAX_OPTION_BYTES} bytes` };
  }
  if (i >= buf.length) return i - start > MAX_OPTION_BYTES ? { kind: 'error', message: `options error: longer than ${MAX_OPTION_BYTES} bytes` } : { kind: 'incomplete' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8', start, i + 1));
  } catch (err) {
    return { kind: 'error', message: `options error: ${(err as Error).message}` };
  }
  // json.Encoder ends every value with one newline; it belongs to the Option, not to the codec.
  let end = i + 1;
  if (buf[end] === 0x0a) end++;
  const o = parsed as Record<string, unknown>;
  const num = (k: string): number | undefined => (o[k] === undefined || o[k] === null ? 0 : typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined);
  const magic = num('MagicNumber');
  const connect = num('ConnectTimeout');
  const handle = num('HandleTimeout');
  const codec = o.CodecType ?? '';
  if (magic === undefined || connect === undefined || handle === undefined || typeof codec !== 'string') {
    return { kind: 'error', message: 'options error: MagicNumber, ConnectTimeout and HandleTimeout must be numbers, CodecType a string' };
  }
  return { kind: 'option', option: { MagicNumber: magic, CodecType: codec, ConnectTimeout: connect, HandleTimeout: handle }, rest: buf.subarray(end) };
}
