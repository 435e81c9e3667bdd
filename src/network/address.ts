/**
 * Listener addresses as the MOSN/Layotto config writes them: `host:port` (`[v6]:port`), a Unix socket
 * path (contains a '/', or has a `unix:` prefix), a dRPC socket path (`drpc:` prefix), or a bare name for an in-process listener.
 */
export type ListenAddress =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'drpc'; path: string }
  | { kind: 'inproc'; name: string };

export function parseListenAddress(address: string): ListenAddress {
  if (address.startsWith('drpc:')) return { kind: 'drpc', path: address.slice('drpc:'.length) };
  if (address.startsWith('unix:')) return { kind: 'unix', path: address.slice('unix:'.length) };
  if (address.includes('/')) return { kind: 'unix', path: address };
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (m !== null) {
    const port = Number(m[3]);
    if (port > 65535) throw new Error(`port out of range in address "${address}"`);
    // An empty host (":8080") means every IPv4 interface, as MOSN reads it.
    return { kind: 'tcp', host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!), port };
  }
  if (/^[A-Za-z0-9_.-]+$/.test(address)) return { kind: 'inproc', name: address };
  throw new Error(`cannot read listener address "${address}": expected host:port, a Unix socket path or a name`);
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
