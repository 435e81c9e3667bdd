/**
 * The one address grammar of Ringside, as MOSN/Layotto configs write addresses: `host:port`
 * (`[v6]:port`, `:port` = every interface), a Unix socket path (`/…`, `./…`, `unix:…`), a dRPC socket
 * (`drpc:/…`, listeners and upstream hosts) or a bare name (an in-process listener). Listener, host, admin, demo
 * upstream and channel addresses are all read here; `splitHostPort` is the lenient core for
 * addresses Ringside formatted itself (peer addresses). (geerpc's `tcp@host:port` is its own wire
 * format: src/geerpc/address.ts.)
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Parsed } from './duration.js';

export type Endpoint =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  /** A dRPC (SOCK_SEQPACKET) socket path, written `drpc:/path/to.sock` (listeners and upstream hosts). */
  | { kind: 'drpc'; path: string }
  /** Reached only through a RingPipe dialed by name (Layotto's channel → egress listener). */
  | { kind: 'inprocess'; name: string };

export interface AddressRules {
  /** A bare name is an in-process listener (listeners only). */
  inprocess: boolean;
  unix: boolean;
  /** `drpc:/path` is a dRPC SOCK_SEQPACKET socket (a listener's, or an upstream dRPC server's). */
  drpc?: boolean;
  /** Listeners may bind port 0 (any free port, used by tests); upstream hosts may not. */
  minPort: 0 | 1;
  /** The listener's MOSN `network` key; "unix" makes any address a socket path. */
  network?: 'tcp' | 'unix' | undefined;
}

/** A listener: any form; port 0 binds a free port. */
export const LISTENER_ADDRESS: AddressRules = { inprocess: true, unix: true, drpc: true, minPort: 0 };
/** An upstream host of a cluster: host:port, a real port (the clients dial TCP), or a dRPC server's drpc:/path. */
export const HOST_ADDRESS: AddressRules = { inprocess: false, unix: false, drpc: true, minPort: 1 };
/** A Layotto channel's `listener`: an in-process listener name, host:port (TCP) or a socket path. */
export const CHANNEL_ADDRESS: AddressRules = { inprocess: true, unix: true, minPort: 1 };
export const TCP_ADDRESS: AddressRules = { inprocess: false, unix: false, minPort: 1 };
/** The admin API and the demo upstream may take any free port (tests); never a socket path or in-process. */
export const ADMIN_ADDRESS: AddressRules = { inprocess: false, unix: false, minPort: 0 };

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


/**
 * Splits `host:port` / `[v6]:port` without validating the host; undefined when there is no numeric
 * port. For addresses Ringside formatted itself (a peer's `ip:port`); config values go through
 * parseAddress. No regex: tcp_proxy's routes call it per connection.
 */
export function splitHostPort(address: string): { host: string; port: number } | undefined {
  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0 || address.charCodeAt(close + 1) !== 58 /* : */) return undefined;
    host = address.slice(1, close);
    portText = address.slice(close + 2);
  } else {
    const colon = address.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
  }
  if (portText.length === 0 || portText.length > 5) return undefined;
  for (let i = 0; i < portText.length; i++) {
    const c = portText.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const port = Number(portText);
  return port > 65535 ? undefined : { host, port };
}

/** `host:port`, with brackets around an IPv6 host. */
export function formatHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
