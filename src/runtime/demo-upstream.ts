/**
 * The built-in demo upstream: an HTTP/1.1 server that answers the walk-through's dubbo JSON-RPC call
 * (GetUser "A003"), so `ringside start` with the embedded config serves a first call with nothing else
 * running. It plays the dubbo-go sample provider behind the egress proxy.
 */
import { ADMIN_ADDRESS, parseAddress } from '../common/address.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const DEMO_UPSTREAM_ADDRESS = '127.0.0.1:34999';

interface User {
  id: string;
  name: string;
  age: number;
  time: number;
  sex: string;
}

const USERS: Record<string, User> = {
  A003: { id: '113', name: 'Moorse', age: 30, time: 703394193, sex: 'MAN' },
};

type JsonRpcId = string | number | null;

/** Answers one JSON-RPC 2.0 request body; exported so tests can pin the exact bytes. */
export function answerJsonRpc(body: string): string {
  let req: unknown;
  try {
    req = JSON.parse(body);
  } catch {
    return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
  }
  const r = (typeof req === 'object' && req !== null ? req : {}) as { method?: unknown; params?: unknown; id?: unknown };
  const id: JsonRpcId = typeof r.id === 'string' || typeof r.id === 'number' ? r.id : null;
  if (r.method !== 'GetUser') {
    return JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${String(r.method)}` } });
  }
  const userId = Array.isArray(r.params) ? r.params[0] : undefined;
  const user = typeof userId === 'string' ? USERS[userId] : undefined;
  if (user === undefined) {
    return JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32000, message: `user not found: ${String(userId)}` } });
  }
  return JSON.stringify({ jsonrpc: '2.0', id, result: user });
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const out = Buffer.from(answerJsonRpc(Buffer.concat(chunks).toString('utf8')));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': out.length }).end(out);
  });
}

export interface DemoUpstream {
  readonly address: string;
  close(): Promise<void>;
}

/** Starts the demo upstream on `address` (host:port; port 0 picks a free one). */
export function startDemoUpstream(address: string = DEMO_UPSTREAM_ADDRESS): Promise<DemoUpstream> {
  const where = parseAddress(address, ADMIN_ADDRESS);
  if (!where.ok || where.value.kind !== 'tcp') return Promise.reject(new Error(`demo upstream address "${address}": ${where.ok ? 'expected host:port' : where.message}`));
  const { host, port } = where.value;
  const server: Server = createServer({ keepAliveTimeout: 60_000 }, handle);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolve({
        address: `${a.address}:${a.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
