/**
 * Who may talk to the admin endpoint. The admin API can stop the sidecar (POST /drain) and shows its
 * configuration, so it must not be reachable from a web page the operator happens to open:
 *
 *  - DNS rebinding: a page on evil.example re-resolves its own name to 127.0.0.1 and calls the admin
 *    port from the victim's browser. The browser still sends `Host: evil.example:port`, so only Host
 *    values that name this endpoint are served: localhost, the configured host, the bound address, or
 *    (when bound to a wildcard address) any IP literal — always with the bound port.
 *  - Cross-site requests: any request carrying an Origin other than the admin's own (or
 *    `Sec-Fetch-Site: cross-site`) is refused, so a page cannot even fire a request that has effects.
 *  - Simple forms: a POST whose Content-Type a browser may send cross-site without a preflight
 *    (text/plain, application/x-www-form-urlencoded, multipart/form-data) is refused; POSTs carry no
 *    body or application/json.
 */
import { isIP } from 'node:net';
import { splitHostPort } from '../common/address.js';

export interface AdminRefusal {
  status: number;
  error: string;
}

const SIMPLE_FORM_TYPES = new Set(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']);
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** Splits a Host header or an origin's authority into host and port (undefined when absent). */
function authority(value: string): { host: string; port: number | undefined } | null {
  const hp = splitHostPort(value);
  if (hp !== undefined) return { host: hp.host.toLowerCase(), port: hp.port };
  // No port: a bracketed IPv6 literal or a bare name; anything else with a colon is malformed.
  if (value.startsWith('[')) return value.endsWith(']') ? { host: value.slice(1, -1).toLowerCase(), port: undefined } : null;
  return value.includes(':') ? null : { host: value.toLowerCase(), port: undefined };
}

export class AdminGuard {
  readonly #port: number;
  readonly #names: Set<string>;
  readonly #anyIp: boolean;

  /** `configuredHost` as written in admin.address; `boundHost`/`port` as the socket reports them. */
  constructor(configuredHost: string | undefined, boundHost: string, port: number) {
    this.#port = port;
    const configured = (configuredHost ?? '').toLowerCase();
    this.#anyIp = WILDCARDS.has(configured) || WILDCARDS.has(boundHost);
    this.#names = new Set(['localhost', boundHost.toLowerCase()]);
    if (!WILDCARDS.has(configured)) this.#names.add(configured);
    if (boundHost === '127.0.0.1' || boundHost === '::1') ['127.0.0.1', '::1'].forEach((n) => this.#names.add(n));
  }

  #namesThisEndpoint(value: string): boolean {
    const a = authority(value);
    if (a === null) return false;
    if ((a.port ?? 80) !== this.#port) return false;
    return this.#names.has(a.host) || (this.#anyIp && isIP(a.host) !== 0);
  }

  /** Why a request must not be served, or null when it may. */
  check(method: string, headers: Readonly<Record<string, string | string[] | undefined>>): AdminRefusal | null {
    const host = headers['host'];
    if (typeof host !== 'string' || !this.#namesThisEndpoint(host)) {
      return { status: 403, error: `Host "${String(host ?? '')}" does not name this admin endpoint (DNS rebinding protection)` };
    }
    const origin = headers['origin'];
    if (origin !== undefined) {
      const o = typeof origin === 'string' ? origin : '';
      const m = /^http:\/\/(.+)$/i.exec(o);
      if (m === null || !this.#namesThisEndpoint(m[1]!)) return { status: 403, error: `cross-origin request from "${o}" refused` };
    }
    if (headers['sec-fetch-site'] === 'cross-site') return { status: 403, error: 'cross-site request refused' };
    if (method === 'POST') {
      const ct = headers['content-type'];
      const type = typeof ct === 'string' ? ct.split(';')[0]!.trim().toLowerCase() : '';
      if (SIMPLE_FORM_TYPES.has(type)) {
        return { status: 415, error: `POST with Content-Type ${type} refused: send no body or application/json` };
      }
    }
    return null;
  }
}

/** The warning to log when the admin endpoint is reachable from other machines, or null on loopback. */
export function adminExposureWarning(boundHost: string, port: number): string | null {
  const loopback = boundHost === '::1' || boundHost.startsWith('127.') || boundHost === 'localhost';
  if (loopback) return null;
  return (
    `the admin endpoint listens on ${boundHost.includes(':') ? `[${boundHost}]` : boundHost}:${port}, which is not a loopback address: ` +
    'anyone who can reach it can read the configuration and stop this sidecar (POST /drain). ' +
    'Bind ringside.admin.address to 127.0.0.1 unless the network in front of it is trusted.'
  );
}
