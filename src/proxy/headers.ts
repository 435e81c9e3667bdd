/**
 * Header edits the proxy makes on the way through: the router's mutations (through the
 * MutableHeaders view it expects) and X-Forwarded-For / Via, as MOSN's HTTP proxy does.
 */
import type { HeaderMap } from '../types/protocol.js';
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
  const prior = headers.get('x-forwarded-for');
  headers.set('x-forwarded-for', prior === undefined ? ip : `${prior}, ${ip}`);
}

function ipOf(address: string): string {
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    return end > 0 ? address.slice(1, end) : '';
  }
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return '';
  const ip = address.slice(0, colon);
  // A dotted quad, or a bare IPv6 literal that kept its colons.
  return /^[0-9.]+$/.test(ip) || ip.includes(':') ? ip : '';
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
