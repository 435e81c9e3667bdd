/**
 * Routers built from MOSN `routers[]`, once per worker. A Router finds the virtual host by the
 * request's authority, then the first route (in config order) whose path and header matchers accept
 * the request.
 *
 * Virtual host precedence, as MOSN and Envoy do it: an exact domain, then the longest `*.suffix`
 * wildcard, then the longest `prefix.*` wildcard, then `*`. The port is ignored unless a domain names
 * one explicitly. Wildcards are kept sorted longest first so the first hit is the best one.
 */
import type { RouteMatch, RouteMatchContext, Router } from '../types/router.js';
import type { HeaderMutationConfig, RouterConfig, VirtualHostConfig } from '../config/types.js';
import { CompiledRoute, configError } from './route.js';

class VirtualHost {
  readonly name: string;
  readonly routes: readonly CompiledRoute[];

  constructor(cfg: VirtualHostConfig, path: string, random: () => number, routerMutations: HeaderMutationConfig) {
    this.name = cfg.name;
    this.routes = cfg.routers.map(
      (r, i) => new CompiledRoute(r, { name: cfg.name, mutations: cfg, routerMutations }, i, `${path}.routers[${i}]`, random),
    );
  }

  match(ctx: RouteMatchContext): RouteMatch | null {
    const routes = this.routes;
    for (let i = 0; i < routes.length; i++) {
      const m = routes[i]!.tryMatch(ctx);
      if (m !== null) return m;
    }
    return null;
  }
}

interface Wildcard {
  /** For `*.example.com`: ".example.com"; for `api.*`: "api.". */
  readonly part: string;
  readonly vhost: VirtualHost;
}

class RouterImpl implements Router {
  readonly name: string;
  readonly #exact = new Map<string, VirtualHost>();
  readonly #suffixes: Wildcard[] = [];
  readonly #prefixes: Wildcard[] = [];
  #catchAll: VirtualHost | undefined;
  /** Set when `*` is the only domain: the whole lookup is skipped (the common sidecar case). */
  readonly #only: VirtualHost | undefined;

  constructor(cfg: RouterConfig, path: string, random: () => number) {
    this.name = cfg.router_config_name;
    let onlyAny = true;
    cfg.virtual_hosts.forEach((vcfg, vi) => {
      const vpath = `${path}.virtual_hosts[${vi}]`;
      const vhost = new VirtualHost(vcfg, vpath, random, cfg);
      if (vcfg.domains.length === 0) throw configError(`${vpath}.domains`, 'must name at least one domain');
      vcfg.domains.forEach((raw, di) => {
        const dpath = `${vpath}.domains[${di}]`;
        const d = raw.toLowerCase();
        if (d === '*') {
          if (this.#catchAll !== undefined) throw configError(dpath, `"*" is already served by virtual host "${this.#catchAll.name}"`);
          this.#catchAll = vhost;
          return;
        }
        onlyAny = false;
        let list: Wildcard[] | undefined;
        let part = d;
        if (d.startsWith('*')) {
          list = this.#suffixes;
          part = d.slice(1);
        } else if (d.endsWith('*')) {
          list = this.#prefixes;
          part = d.slice(0, -1);
        }
        if (part.includes('*')) throw configError(dpath, `"${raw}": a wildcard may only lead or end a domain`);
        if (list === undefined) {
          if (this.#exact.has(d)) throw configError(dpath, `duplicate domain "${raw}"`);
          this.#exact.set(d, vhost);
        } else {
          if (list.some((w) => w.part === part)) throw configError(dpath, `duplicate domain "${raw}"`);
          list.push({ part, vhost });
        }
      });
    });
    this.#suffixes.sort((a, b) => b.part.length - a.part.length);
    this.#prefixes.sort((a, b) => b.part.length - a.part.length);
    this.#only = onlyAny ? this.#catchAll : undefined;
  }

  match(ctx: RouteMatchContext): RouteMatch | null {
    const vhost = this.#only ?? this.#findVirtualHost(ctx.authority);
    return vhost === undefined ? null : vhost.match(ctx);
  }

  #findVirtualHost(authority: string): VirtualHost | undefined {
    // V8 returns the same string when nothing changes case, so this is free for normal hosts.
    const host = authority.toLowerCase();
    let found = this.#exact.get(host);
    if (found !== undefined) return found;
    const end = hostEnd(host);
    if (end !== host.length) {
      found = this.#exact.get(host.slice(0, end));
      if (found !== undefined) return found;
    }
    // A wildcard must stand for at least one character, hence the strict length comparisons.
    const suffixes = this.#suffixes;
    for (let i = 0; i < suffixes.length; i++) {
      const w = suffixes[i]!;
      if (end > w.part.length && host.endsWith(w.part, end)) return w.vhost;
    }
    const prefixes = this.#prefixes;
    for (let i = 0; i < prefixes.length; i++) {
      const w = prefixes[i]!;
      if (end > w.part.length && host.startsWith(w.part)) return w.vhost;
    }
    return this.#catchAll;
  }
}

/**
 * Index where the port begins, or the length: a `:` followed only by digits at the end. An IPv6
 * literal in a Host header is bracketed (RFC 3986), so "[::1]" ends in "]" and keeps its colons.
 * A backwards scan over at most a few digits, instead of searching the whole string.
 */
function hostEnd(host: string): number {
  let i = host.length - 1;
  while (i >= 0) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i--;
  }
  return i >= 0 && i < host.length - 1 && host.charCodeAt(i) === 58 /* : */ ? i : host.length;
}

export interface RoutersOptions {
  /** Uniform [0, 1) source for weighted clusters; tests inject a fixed sequence. */
  random?: () => number;
  /** JSON path prefix for error messages. */
  path?: string;
}

/**
 * The router a `proxy` filter holds: a stable handle whose compiled table a reload replaces. The swap
 * is one field assignment, so a request sees either the old table or the new one, never a mix; a
 * request that already matched keeps its RouteMatch (and cluster name) to the end.
 */
class RouterHandle implements Router {
  readonly name: string;
  current: Router;

  constructor(router: Router) {
    this.name = router.name;
    this.current = router;
  }

  match(ctx: RouteMatchContext): RouteMatch | null {
    return this.current.match(ctx);
  }
}

/** A router that matches nothing (a handle whose router a reload removed: every request is 404). */
const removedRouter = (name: string): Router => ({ name, match: () => null });

/** Every router of the config, by `router_config_name`; a reload swaps their tables in place. */
export class Routers {
  readonly #byName = new Map<string, RouterHandle>();
  /** Handles of routers a staged reload adds (prepare → swap). */
  readonly #pending = new Map<string, RouterHandle>();
  readonly #random: () => number;
  readonly #base: string;

  /** Throws an Error naming the JSON path and the reason when the config cannot be compiled. */
  constructor(routers: readonly RouterConfig[], opts: RoutersOptions = {}) {
    // Math.random is V8's xorshift128+ over a refilled cache: cheap enough per request, no state here.
    this.#random = opts.random ?? Math.random;
    this.#base = opts.path ?? 'routers';
    for (const [name, router] of this.#compile(routers)) this.#byName.set(name, new RouterHandle(router));
  }

  #compile(routers: readonly RouterConfig[]): Map<string, Router> {
    const out = new Map<string, Router>();
    routers.forEach((cfg, i) => {
      const path = `${this.#base}[${i}]`;
      if (out.has(cfg.router_config_name)) {
        throw configError(`${path}.router_config_name`, `duplicate router "${cfg.router_config_name}"`);
      }
      out.set(cfg.router_config_name, new RouterImpl(cfg, path, this.#random));
    });
    return out;
  }

  /**
   * Compiles `routers` (throwing, with nothing changed, when one cannot be) and returns the swap that
   * puts them in force: handles already held by proxy filters see the new tables from their next
   * request; a router no longer configured matches nothing; a new one gets a handle (get() hands it
   * out before the swap, so a listener built for the same reload can hold it).
   */
  prepare(routers: readonly RouterConfig[]): { swap(): void; abort(): void } {
    const next = this.#compile(routers);
    // Handles for new names exist from now, so listeners built for the same reload can hold them.
    for (const [name, router] of next) if (!this.#byName.has(name)) this.#pending.set(name, new RouterHandle(router));
    return {
      swap: () => {
        for (const [name, handle] of this.#byName) {
          if (next.has(name)) continue;
          handle.current = removedRouter(name);
          this.#byName.delete(name);
        }
        for (const [name, router] of next) {
          const handle = this.#byName.get(name) ?? this.#pending.get(name)!;
          handle.current = router;
          this.#byName.set(name, handle);
        }
        this.#pending.clear();
      },
      abort: () => this.#pending.clear(),
    };
  }

  /** Called once when a proxy filter is built, so requests skip the name lookup. */
  get(name: string): Router | undefined {
    return this.#byName.get(name) ?? this.#pending.get(name);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  /** Convenience for callers that keep only the name; null when the router or a route is missing. */
  match(routerName: string, ctx: RouteMatchContext): RouteMatch | null {
    const r = this.#byName.get(routerName);
    return r === undefined ? null : r.match(ctx);
  }
}
