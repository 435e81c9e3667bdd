/**
 * Byte classes for HTTP/1.x parsing (RFC 9110 §5.6.2 tokens, §5.5 field values). Lookup tables keep
 * validation to one load per byte instead of range comparisons or regular expressions.
 */

/** tchar: the bytes allowed in methods and field names. */
export const TOKEN = new Uint8Array(256);
/** field-vchar, SP, HTAB and obs-text: everything allowed in a field value; no other control bytes. */
export const VALUE = new Uint8Array(256);
/** Bytes allowed in a request target: visible ASCII and obs-text, no SP or controls. */
export const TARGET = new Uint8Array(256);
/** Hex digit values, -1 for non-hex bytes. */
export const HEX = new Int8Array(256).fill(-1);

for (let c = 0; c < 256; c++) {
  const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  if (alnum || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))) TOKEN[c] = 1;
  if (c === 0x09 || (c >= 0x20 && c !== 0x7f)) VALUE[c] = 1;
  if (c > 0x20 && c !== 0x7f) TARGET[c] = 1;
  if (c >= 0x30 && c <= 0x39) HEX[c] = c - 0x30;
  else if (c >= 0x41 && c <= 0x46) HEX[c] = c - 0x41 + 10;
  else if (c >= 0x61 && c <= 0x66) HEX[c] = c - 0x61 + 10;
}

/**
 * Compares buf[start, start+lit.length) with a lower-case literal, folding A–Z only; the caller has
 * already checked the length.
 */
export function bytesEqualLower(buf: Buffer, start: number, lit: string): boolean {
  for (let i = 0; i < lit.length; i++) {
    let c = buf[start + i]!;
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lit.charCodeAt(i)) return false;
  }
  return true;
}
