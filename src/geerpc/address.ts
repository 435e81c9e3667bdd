/**
 * geerpc addresses: `tcp@host:port`, `http@host:port` (HTTP CONNECT to /_geeprc_ first) and
 * `unix@/path/to.sock`, as the seed's XDial spells them.
 */
import { GeeRpcError } from './errors.js';

export type RpcAddress =
  | { readonly protocol: 'tcp' | 'http'; readonly host: string; readonly port: number }
  | { readonly protocol: 'unix'; readonly path: string };

export function parseRpcAddress(raw: string): RpcAddress {
  const at = raw.indexOf('@');
  if (at <= 0 || raw.indexOf('@', at + 1) >= 0) {
    throw new GeeRpcError('BAD_ADDRESS', `rpc client err: wrong format '${raw}', expect protocol@addr`);
  }
  const protocol = raw.slice(0, at);
  const rest = raw.slice(at + 1);
  if (protocol === 'unix') {
    if (rest === '') throw new GeeRpcError('BAD_ADDRESS', `rpc: '${raw}' has an empty socket path`);
    return { protocol, path: rest };
  }
  if (protocol !== 'tcp' && protocol !== 'http') {
    throw new GeeRpcError('BAD_ADDRESS', `rpc: unsupported protocol '${protocol}' in '${raw}' (tcp, http or unix)`);
  }
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(rest);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new GeeRpcError('BAD_ADDRESS', `rpc: '${raw}' needs host:port after ${protocol}@`);
  return { protocol, host: m[1] ?? (m[2] === '' ? '127.0.0.1' : m[2]!), port };
}

export function formatRpcAddress(a: RpcAddress): string {
  if (a.protocol === 'unix') return `unix@${a.path}`;
  return `${a.protocol}@${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
