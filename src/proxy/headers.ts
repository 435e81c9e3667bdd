/**
 * The router's header mutations applied through the MutableHeaders view it expects, over any
 * codec's HeaderMap. Forwarded-for style fields are the protocol's (ProxyHooks.addForwarded).
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
