/**
 * Value shapes shared by every config section: MOSN durations, addresses and ports. Each parser
 * returns a message instead of throwing, so the schema can attach it to the exact JSON path.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import type { ConfigKit } from '../types/extension.js';
import { parseAddress, type AddressRules, type Endpoint } from '../common/address.js';
import { parseDuration, type Millis } from '../common/duration.js';

// The one address and duration grammar lives in src/common; the config re-exports it.
export { describeAddressRules, hostIssue, parseAddress, type AddressRules, type Endpoint } from '../common/address.js';
export { parseDuration, type Millis } from '../common/duration.js';

/** A duration field: a number (ms) or a Go duration string, normalized to milliseconds. */
export function duration() {
  return z
    .union([z.number(), z.string()], { error: 'expected a duration: a number of milliseconds or a string like "1s", "500ms"' })
    .transform((v, ctx): Millis => {
      const r = parseDuration(v);
      if (r.ok) return r.value;
      ctx.addIssue({ code: 'custom', message: r.message, input: v });
      return z.NEVER;
    });
}

/** A string field holding an address; the parsed endpoint is computed where the whole object is known. */
export function addressString(rules: AddressRules) {
  return z.string().superRefine((v, ctx) => {
    const r = parseAddress(v, rules);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message, input: v });
  });
}

/** Parses an address already validated by addressString; throws only on a Ringside bug. */
export function endpointOf(raw: string, rules: AddressRules): Endpoint {
  const r = parseAddress(raw, rules);
  if (!r.ok) throw new Error(`unvalidated address reached endpointOf: ${r.message}`);
  return r.value;
}

export function port(min: 0 | 1 = 1) {
  return z
    .number({ error: 'expected a port number' })
    .int({ error: 'expected an integer port number' })
    .min(min, { error: `port is out of range (${min}-65535)` })
    .max(65535, { error: `port is out of range (${min}-65535)` });
}

export function positiveInt() {
  return z.number().int({ error: 'expected an integer' }).min(1, { error: 'expected an integer ≥ 1' });
}

export function nonNegativeInt() {
  return z.number().int({ error: 'expected an integer' }).min(0, { error: 'expected an integer ≥ 0' });
}

/** A CIDR range: "10.0.0.0/8" or MOSN's {address, length}; length defaults to the whole address. */
export function cidrRange(k: ConfigKit) {
  const text = z.string().transform((v, ctx) => {
    const slash = v.indexOf('/');
    const address = slash < 0 ? v : v.slice(0, slash);
    const length = slash < 0 ? undefined : Number(v.slice(slash + 1));
    return checkedCidr(address, length, v.slice(slash + 1), ctx);
  });
  const obj = k
    .obj({ address: z.string(), length: z.number().int({ error: 'expected an integer prefix length' }).optional() })
    .transform((c, ctx) => checkedCidr(c.address, c.length, String(c.length), ctx, ['address'], ['length']));
  return z.union([text, obj]);
}

export interface Cidr {
  address: string;
  /** Prefix length on the address's own scale (0-32 for IPv4, 0-128 for IPv6). */
  length: number;
}

function checkedCidr(
  address: string,
  length: number | undefined,
  lengthText: string,
  ctx: z.core.$RefinementCtx,
  addressPath: string[] = [],
  lengthPath: string[] = [],
): Cidr {
  const v4 = isIPv4(address);
  if (!v4 && !isIPv6(address)) {
    ctx.addIssue({ code: 'custom', message: `not an IP address: "${address}"`, path: addressPath, input: address });
    return z.NEVER;
  }
  const max = v4 ? 32 : 128;
  const len = length ?? max;
  if (!Number.isInteger(len) || len < 0 || len > max) {
    ctx.addIssue({ code: 'custom', message: `prefix length must be an integer 0-${max}, got ${lengthText}`, path: lengthPath, input: length });
    return z.NEVER;
  }
  return { address, length: len };
}

/** A port or an inclusive range "low-high" (MOSN's source_port / destination_port), as [low, high]. */
export function portRange() {
  return z.union([z.number(), z.string()]).transform((v, ctx): [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(String(v).trim());
    const lo = m === null ? NaN : Number(m[1]);
    const hi = m === null ? NaN : m[2] === undefined ? lo : Number(m[2]);
    if (!(lo >= 0 && hi <= 65535 && lo <= hi)) {
      ctx.addIssue({ code: 'custom', message: `expected a port or a range "low-high" within 0-65535, got ${JSON.stringify(v)}`, input: v });
      return z.NEVER;
    }
    return [lo, hi];
  });
}
