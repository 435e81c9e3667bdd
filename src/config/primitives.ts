/**
 * Value shapes shared by every config section: MOSN durations, addresses and ports. Each parser
 * returns a message instead of throwing, so the schema can attach it to the exact JSON path.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import type { ConfigKit } from '../types/extension.js';

/** Milliseconds. Every duration in a normalized config is a number of milliseconds. */
export type Millis = number;

export type Endpoint =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  /** A dRPC (SOCK_SEQPACKET) socket path, written `drpc:/path/to.sock` (listeners only). */
  | { kind: 'drpc'; path: string }
  /** Reached only through a RingPipe dialed by name (Layotto's channel → egress listener). */
  | { kind: 'inprocess'; name: string };

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const goDurationPart = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * MOSN writes durations as Go strings ("1s", "500ms", "1m30s"); hand-written configs often use plain
 * numbers, which Ringside reads as milliseconds.
 */
export function parseDuration(value: number | string): Parsed<Millis> {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return { ok: false, message: `duration must be a non-negative number of milliseconds, got ${value}` };
    return { ok: true, value };
  }
  const text = value.trim();
  // Go accepts a bare "0"; anything else needs a unit, and so does Ringside to avoid s/ms mix-ups.
  if (text === '0') return { ok: true, value: 0 };
  if (text === '') return { ok: false, message: 'invalid duration "": expected a number of milliseconds or a string like "1s"' };
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    goDurationPart.lastIndex = pos;
    const m = goDurationPart.exec(text);
    if (m === null) {
      return { ok: false, message: `invalid duration "${value}": expected a number of milliseconds or a string like "1s", "500ms", "1m30s"` };
    }
    total += Number(m[1]) * (unitMs[m[2] as string] as number);
    pos = goDurationPart.lastIndex;
  }
  return { ok: true, value: total };
}

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

export interface AddressRules {
  /** A bare name is an in-process listener (listeners only). */
  inprocess: boolean;
  unix: boolean;
  /** `drpc:/path` is a dRPC listener's SOCK_SEQPACKET socket (listeners only). */
  drpc?: boolean;
  /** Listeners may bind port 0 (any free port, used by tests); upstream hosts may not. */
  minPort: 0 | 1;
  /** The listener's MOSN `network` key; "unix" makes any address a socket path. */
  network?: 'tcp' | 'unix' | undefined;
}

const bareName = /^[A-Za-z0-9_.-]+$/;

export function describeAddressRules(rules: AddressRules): string {
  if (rules.inprocess) return 'expected host:port, a socket path or a listener name';
  if (rules.unix) return 'expected host:port or a socket path';
  return 'expected host:port';
}

export function parseAddress(raw: string, rules: AddressRules): Parsed<Endpoint> {
  const text = raw.trim();
  const expected = describeAddressRules(rules);
  if (text === '') return { ok: false, message: `${expected}, got an empty string` };
  if (rules.drpc === true && text.startsWith('drpc:')) {
    const path = text.slice('drpc:'.length);
    return path === '' ? { ok: false, message: 'drpc: needs a socket path after it' } : { ok: true, value: { kind: 'drpc', path } };
  }
  if (rules.unix) {
    if (text.startsWith('unix:')) {
      const path = text.slice('unix:'.length);
      return path === '' ? { ok: false, message: 'unix: needs a socket path after it' } : { ok: true, value: { kind: 'unix', path } };
    }
    if (rules.network === 'unix' || text.startsWith('/') || text.startsWith('./') || text.startsWith('../')) {
      return { ok: true, value: { kind: 'unix', path: text } };
    }
  }
  const colon = text.lastIndexOf(':');
  if (colon >= 0) {
    const hostPart = text.slice(0, colon);
    const portPart = text.slice(colon + 1);
    if (!/^\d+$/.test(portPart)) return { ok: false, message: `${expected}, got "${raw}"` };
    const port = Number(portPart);
    if (port < rules.minPort || port > 65535) {
      return { ok: false, message: `port ${portPart} is out of range (${rules.minPort}-65535)` };
    }
    let host = hostPart;
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    else if (host.includes(':')) return { ok: false, message: `IPv6 hosts need brackets, e.g. "[::1]:${portPart}", got "${raw}"` };
    if (/[\s/[\]]/.test(host)) return { ok: false, message: `${expected}, got "${raw}"` };
    const bad = host === '' ? undefined : hostIssue(host);
    if (bad !== undefined) return { ok: false, message: `${bad} in "${raw}"` };
    // Go's ":8080" means every interface; keep that meaning.
    return { ok: true, value: { kind: 'tcp', host: host === '' ? '0.0.0.0' : host, port } };
  }
  if (rules.inprocess && bareName.test(text)) return { ok: true, value: { kind: 'inprocess', name: text } };
  return { ok: false, message: `${expected}, got "${raw}"` };
}

const hostLabel = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/**
 * Why `host` (no brackets, no port) can be neither an IP address nor a DNS name; undefined when fine.
 * Dotted digits must be a real IPv4 address, so "999.1.1.1" is refused here rather than by DNS later.
 */
export function hostIssue(host: string): string | undefined {
  if (host.includes(':')) return isIPv6(host) ? undefined : `"${host}" is not an IPv6 address`;
  if (/^[0-9.]+$/.test(host)) return isIPv4(host) ? undefined : `"${host}" is not an IPv4 address`;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length > 253 || !name.split('.').every((label) => hostLabel.test(label))) return `"${host}" is not a host name`;
  return undefined;
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
