/**
 * Header edits the proxy makes on the way through: the router's mutations (through the
 * MutableHeaders view it expects) and X-Forwarded-For / Via, as MOSN's HTTP proxy does.
 */
import type { HeaderMap } from '../types/protocol.js';
import { equalsIgnoreCase } from '../protocol/headers.js';
import type { MutableHeaders } from '../types/router.js';

/** Adapts a codec HeaderMap to the router's MutableHeaders shape without copying. */
export function mutableView(headers: HeaderMap): MutableHeaders {
  return {
    get: (n) => headers.get(n),
    set: (n, v) => headers.set(n, v),
    append: (n, v) => headers.add(n, v),
    delete: (n) => void headers.remove(n),
  };
}

/**
 * Appends the downstream peer's IP to X-Forwarded-For (a proxy chain reads left to right). The
 * connection's address is "ip:port" or "[ipv6]:port"; in-process peers have no IP and add nothing.
 */
export function appendForwardedFor(headers: HeaderMap, remoteAddress: string): void {
  const ip = ipOf(remoteAddress);
  if (ip === '') return;
  // One scan instead of get() + set(): the usual request has no X-Forwarded-For yet and just gets one.
  const raw = headers.raw;
  for (let i = 0; i < raw.length; i += 2) {
    if (equalsIgnoreCase(raw[i]!, 'x-forwarded-for')) {
      headers.set('x-forwarded-for', `${raw[i + 1]!}, ${ip}`);
      return;
    }
  }
  headers.add('x-forwarded-for', ip);
}

function ipOf(address: string): string {
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    return end > 0 ? address.slice(1, end) : '';
  }
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return '';
  const ip = address.slice(0, colon);
  // A dotted quad, or a bare IPv6 literal that kept its colons. A char loop, not a regex: this runs
  // once per proxied request.
  return isDottedOrColon(ip) ? ip : '';
}

/** /^[0-9.]+$/ or containing ':' — the same test the regex made. */
function isDottedOrColon(ip: string): boolean {
  let dotted = ip.length > 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 58) return true; // ':'
    if (c !== 46 && (c < 48 || c > 57)) dotted = false;
  }
  return dotted;
}

/** Adds this hop to Via ("1.1 ringside"), keeping earlier hops. */
export function appendVia(headers: HeaderMap, via: string): void {
  const prior = headers.get('via');
  headers.set('via', prior === undefined ? via : `${prior}, ${via}`);
}

/** Methods a retry may resend after bytes reached the upstream (RFC 9110 idempotent methods). */
export function isIdempotent(method: string): boolean {
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
    case 'PUT':
    case 'DELETE':
    case 'TRACE':
      return true;
    default:
      return false;
  }
}
