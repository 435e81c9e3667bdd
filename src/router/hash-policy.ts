/**
 * A route's `hash_policy` (MOSN / Envoy): where the key for consistent-hash load balancers
 * (LB_MAGLEV, LB_RING_HASH) comes from. Policies are tried in order and the first that yields a
 * value wins: a request header, the downstream source IP, or a cookie's value. A request none of
 * them yields a key for is balanced without one (a random healthy host).
 */
import type { HashPolicyConfig } from '../config/types.js';
import { splitHostPort } from '../common/address.js';

export type HashKeySource =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'source_ip' }
  | { readonly kind: 'cookie'; readonly name: string };

export function compileHashPolicy(cfg: readonly HashPolicyConfig[] | undefined): readonly HashKeySource[] {
  return (cfg ?? []).map((p): HashKeySource => {
    if (p.header !== undefined) return { kind: 'header', name: p.header.key.toLowerCase() };
    if (p.http_cookie !== undefined) return { kind: 'cookie', name: p.http_cookie.name };
    if (p.source_ip !== undefined) return { kind: 'source_ip' };
    throw new Error('unvalidated hash_policy entry: needs header, http_cookie or source_ip');
  });
}

/** "10.1.2.3:5000" / "[::1]:5000" → the IP; in-process peers (no port) hash by their name. */
function sourceIp(address: string): string {
  return splitHostPort(address)?.host ?? address;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function hashKeyOf(
  sources: readonly HashKeySource[],
  request: { header(name: string): string | undefined },
  sourceAddress: string,
): string | undefined {
  for (const s of sources) {
    let v: string | undefined;
    if (s.kind === 'header') v = request.header(s.name);
    else if (s.kind === 'cookie') v = cookieValue(request.header('cookie'), s.name);
    else v = sourceAddress === '' ? undefined : sourceIp(sourceAddress);
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}
