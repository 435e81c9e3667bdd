/**
 * tcp_proxy's config (MOSN TCPProxy: cluster, routes, idle_timeout, max_connect_attempts), validated
 * by the one schema in src/config/filters.ts — the same one the loader checks at start-up — then
 * compiled here for matching: CIDR ranges become 16-byte prefixes.
 *
 *   { "cluster": "backend", "idle_timeout": "1m30s", "max_connect_attempts": 2,
 *     "routes": [ { "cluster": "b", "source_addrs": ["10.0.0.0/8", {"address": "::1", "length": 128}],
 *                   "destination_addrs": [...], "source_port": "1000-2000", "destination_port": 80 } ] }
 *
 * Routes are tried in order; the first whose every given matcher matches picks its cluster, else
 * `cluster` (none: the connection is closed).
 */
import net from 'node:net';
import { parseTcpProxyFilterConfig } from '../../config/filters.js';
import type { Cidr } from '../../config/primitives.js';
import { splitHostPort } from '../../common/address.js';

export interface CidrRange {
  /** The address as 16 bytes (IPv4 mapped into ::ffff:0:0/96) and the prefix length on that scale. */
  bytes: Buffer;
  bits: number;
}

export interface TcpRoute {
  cluster: string;
  sourceAddrs: CidrRange[];
  destinationAddrs: CidrRange[];
  sourcePorts: readonly [number, number] | null;
  destinationPorts: readonly [number, number] | null;
}

export interface TcpProxyConfig {
  /** Default cluster; undefined when only routes are configured. */
  cluster: string | undefined;
  routes: TcpRoute[];
  /** 0: no idle timeout. */
  idleTimeoutMs: number;
  maxConnectAttempts: number;
  /** Log label (stat_prefix), else the listener's name. */
  label: string | undefined;
  warnings: string[];
}

function toBytes16(ip: string): Buffer | null {
  const out = Buffer.alloc(16);
  if (net.isIPv4(ip)) {
    out[10] = 0xff;
    out[11] = 0xff;
    ip.split('.').forEach((p, i) => (out[12 + i] = Number(p)));
    return out;
  }
  if (!net.isIPv6(ip)) return null;
  // An IPv4 tail ("::ffff:10.1.2.3") becomes its two 16-bit groups.
  const v4tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  const text = v4tail === null ? ip : ip.slice(0, v4tail.index) + `${((+v4tail[1]! << 8) | +v4tail[2]!).toString(16)}:${((+v4tail[3]! << 8) | +v4tail[4]!).toString(16)}`;
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function compile(c: Cidr): CidrRange {
  const v4 = net.isIPv4(c.address);
  return { bytes: toBytes16(c.address)!, bits: v4 ? 96 + c.length : c.length };
}

/** Validates (throwing ConfigError with JSON paths under `path`) and compiles a tcp_proxy config. */
export function parseTcpProxyConfig(raw: unknown, path: string): TcpProxyConfig {
  const { config, warnings } = parseTcpProxyFilterConfig(raw, path);
  return {
    cluster: config.cluster,
    routes: config.routes.map((r) => ({
      cluster: r.cluster,
      sourceAddrs: r.source_addrs.map(compile),
      destinationAddrs: r.destination_addrs.map(compile),
      sourcePorts: r.source_port ?? null,
      destinationPorts: r.destination_port ?? null,
    })),
    idleTimeoutMs: config.idle_timeout ?? 0,
    maxConnectAttempts: config.max_connect_attempts,
    label: config.stat_prefix,
    warnings,
  };
}

function inCidr(bytes: Buffer, range: CidrRange): boolean {
  let bits = range.bits;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (range.bytes[i]! & mask)) return false;
  }
  return true;
}

function addrMatches(address: string, ranges: CidrRange[], ports: readonly [number, number] | null): boolean {
  if (ranges.length === 0 && ports === null) return true;
  const hp = splitHostPort(address);
  if (hp === undefined) return false;
  if (ports !== null && (hp.port < ports[0] || hp.port > ports[1])) return false;
  if (ranges.length === 0) return true;
  const bytes = toBytes16(hp.host);
  return bytes !== null && ranges.some((r) => inCidr(bytes, r));
}

/** The cluster for a downstream connection: the first matching route's, else the default (maybe none). */
export function matchRoute(cfg: TcpProxyConfig, remoteAddress: string, localAddress: string): string | undefined {
  for (const r of cfg.routes) {
    if (addrMatches(remoteAddress, r.sourceAddrs, r.sourcePorts) && addrMatches(localAddress, r.destinationAddrs, r.destinationPorts)) {
      return r.cluster;
    }
  }
  return cfg.cluster;
}
