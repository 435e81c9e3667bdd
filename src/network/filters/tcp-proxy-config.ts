/**
 * tcp_proxy's config, validated once per listener (MOSN TCPProxy: cluster, routes, idle_timeout).
 *
 *   { "cluster": "backend",
 *     "idle_timeout": "90s" | 90000,            optional; also idle_timeout_ms
 *     "connect_timeout_ms": 3000,               optional
 *     "routes": [ { "cluster": "b", "source_addrs": [{"address": "10.0.0.0", "length": 8}],
 *                   "destination_addrs": [...], "source_port": "1000-2000", "destination_port": "80" } ] }
 *
 * Routes are tried in order; the first whose every given matcher matches picks its cluster, else
 * `cluster`. Errors name the JSON path.
 */
import net from 'node:net';
import { ConfigError } from '../../config/errors.js';

export interface CidrRange {
  /** The address as 16 bytes (IPv4 mapped into ::ffff:0:0/96) and the prefix length on that scale. */
  bytes: Buffer;
  bits: number;
}

export interface TcpRoute {
  cluster: string;
  sourceAddrs: CidrRange[];
  destinationAddrs: CidrRange[];
  sourcePorts: [number, number] | null;
  destinationPorts: [number, number] | null;
}

export interface TcpProxyConfig {
  cluster: string;
  routes: TcpRoute[];
  idleTimeoutMs: number;
  connectTimeoutMs: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;

function fail(path: string, why: string): never {
  throw new ConfigError('(tcp_proxy filter)', [{ path, message: why }]);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function durationMs(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim());
    if (m !== null) return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  }
  return fail(path, 'expected a duration (milliseconds, or a string like "90s")');
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
  const [head = '', tail] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.some((g) => g.includes('.'))) return null; // embedded IPv4 in v6 text: not supported in routes
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function cidrList(v: unknown, path: string): CidrRange[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(path, 'expected an array of {address, length}');
  return v.map((entry, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(entry) || typeof entry['address'] !== 'string') fail(p, 'expected {address: string, length: number}');
    const address = entry['address'] as string;
    const bytes = toBytes16(address);
    if (bytes === null) fail(`${p}.address`, `not an IP address: "${address}"`);
    const v4 = net.isIPv4(address);
    const max = v4 ? 32 : 128;
    const length = entry['length'] === undefined ? max : entry['length'];
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > max) fail(`${p}.length`, `expected an integer 0-${max}`);
    return { bytes, bits: v4 ? 96 + length : length };
  });
}

function portRange(v: unknown, path: string): [number, number] | null {
  if (v === undefined || v === '') return null;
  const text = String(v);
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (m === null) fail(path, 'expected a port or a range "low-high"');
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo > 65535 || hi > 65535 || lo > hi) fail(path, 'port range out of order or out of range');
  return [lo, hi];
}

export function parseTcpProxyConfig(raw: unknown, path: string): TcpProxyConfig {
  if (!isObject(raw)) fail(path, 'expected an object');
  const cluster = raw['cluster'];
  if (typeof cluster !== 'string' || cluster === '') fail(`${path}.cluster`, 'expected a cluster name');
  const routesRaw = raw['routes'];
  if (routesRaw !== undefined && !Array.isArray(routesRaw)) fail(`${path}.routes`, 'expected an array');
  const routes = (routesRaw ?? []).map((r: unknown, i: number): TcpRoute => {
    const p = `${path}.routes[${i}]`;
    if (!isObject(r)) fail(p, 'expected an object');
    if (typeof r['cluster'] !== 'string' || r['cluster'] === '') fail(`${p}.cluster`, 'expected a cluster name');
    return {
      cluster: r['cluster'],
      sourceAddrs: cidrList(r['source_addrs'], `${p}.source_addrs`),
      destinationAddrs: cidrList(r['destination_addrs'], `${p}.destination_addrs`),
      sourcePorts: portRange(r['source_port'], `${p}.source_port`),
      destinationPorts: portRange(r['destination_port'], `${p}.destination_port`),
    };
  });
  const idleRaw = raw['idle_timeout_ms'] ?? raw['idle_timeout'];
  const idleTimeoutMs = idleRaw === undefined ? 0 : durationMs(idleRaw, `${path}.idle_timeout`);
  const connectRaw = raw['connect_timeout_ms'];
  const connectTimeoutMs = connectRaw === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : durationMs(connectRaw, `${path}.connect_timeout_ms`);
  return { cluster, routes, idleTimeoutMs, connectTimeoutMs };
}

function splitHostPort(address: string): { ip: string; port: number } | null {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  return m === null ? null : { ip: m[1]!, port: Number(m[2]) };
}

function inCidr(bytes: Buffer, range: CidrRange): boolean {
  let bits = range.bits;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (range.bytes[i]! & mask)) return false;
  }
  return true;
}

function addrMatches(address: string, ranges: CidrRange[], ports: [number, number] | null): boolean {
  if (ranges.length === 0 && ports === null) return true;
  const hp = splitHostPort(address);
  if (hp === null) return false;
  if (ports !== null && (hp.port < ports[0] || hp.port > ports[1])) return false;
  if (ranges.length === 0) return true;
  const bytes = toBytes16(hp.ip.replace(/^::ffff:(?=\d+\.)/, ''));
  return bytes !== null && ranges.some((r) => inCidr(bytes, r));
}

/** The cluster for a downstream connection: the first matching route's, else the default. */
export function matchRoute(cfg: TcpProxyConfig, remoteAddress: string, localAddress: string): string {
  for (const r of cfg.routes) {
    if (addrMatches(remoteAddress, r.sourceAddrs, r.sourcePorts) && addrMatches(localAddress, r.destinationAddrs, r.destinationPorts)) {
      return r.cluster;
    }
  }
  return cfg.cluster;
}
