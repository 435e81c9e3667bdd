/**
 * Listener addresses as the Net/IO layer uses them, read with the one address grammar
 * (src/common/address.ts): `host:port` (`[v6]:port`), a Unix socket path, a dRPC socket path
 * (`drpc:` prefix), or a bare name for an in-process listener.
 */
import { LISTENER_ADDRESS, parseAddress } from '../common/address.js';

export { formatHostPort } from '../common/address.js';

export type ListenAddress =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'drpc'; path: string }
  | { kind: 'inproc'; name: string };

export function parseListenAddress(address: string): ListenAddress {
  const r = parseAddress(address, LISTENER_ADDRESS);
  if (!r.ok) throw new Error(`cannot read listener address "${address}": ${r.message}`);
  return r.value.kind === 'inprocess' ? { kind: 'inproc', name: r.value.name } : r.value;
}
