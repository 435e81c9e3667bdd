/**
 * Value shapes shared by every config section: MOSN durations, addresses and ports. Each parser
 * returns a message instead of throwing, so the schema can attach it to the exact JSON path.
 */
import { z } from 'zod';

/** Milliseconds. Every duration in a normalized config is a number of milliseconds. */
export type Millis = number;

export type Endpoint =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
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
    // Go's ":8080" means every interface; keep that meaning.
    return { ok: true, value: { kind: 'tcp', host: host === '' ? '0.0.0.0' : host, port } };
  }
  if (rules.inprocess && bareName.test(text)) return { ok: true, value: { kind: 'inprocess', name: text } };
  return { ok: false, message: `${expected}, got "${raw}"` };
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
