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

/** Appends the downstream peer to X-Forwarded-For (a proxy chain reads left to right). */
export function appendForwardedFor(headers: HeaderMap, remoteAddress: string): void {
  if (remoteAddress === '') return;
  const prior = headers.get('x-forwarded-for');
  headers.set('x-forwarded-for', prior === undefined ? remoteAddress : `${prior}, ${remoteAddress}`);
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
