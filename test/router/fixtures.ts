import type { RouteMatchContext } from '../../src/types/router.js';

/** A request as the router sees it; header names given in any case are looked up in lower case. */
export function req(authority: string, path: string, headers: Record<string, string> = {}, method = 'GET'): RouteMatchContext {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { authority, path, method, header: (name) => lower.get(name) };
}

