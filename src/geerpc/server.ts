/**
 * geerpc's Server: register services, then accept on any number of listeners —
 *   tcp@host:port and unix@path: raw geerpc connections;
 *   http@host:port: `CONNECT /_geeprc_` switches a connection to geerpc (answer
 *   `HTTP/1.0 200 Connected to Gee RPC`), `GET /debug/geerpc` shows the debug page, any other
 *   method on the RPC path answers 405.
 * Go's client writes its CONNECT line with a bare LF, which Node's HTTP parser refuses, so the
 * first line is read here and only non-CONNECT requests are handed to node:http.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { rm } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { logger } from '../common/log.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../protocol/gob/index.js';
import { parseRpcAddress, formatRpcAddress, type RpcAddress } from './address.js';
import { debugPage } from './debug.js';
import { ServerConn } from './server-conn.js';
import { Service, type MethodTypes } from './service.js';

const log = logger('geerpc.server');

export const DEFAULT_RPC_PATH = '/_geeprc_';
export const DEFAULT_DEBUG_PATH = '/debug/geerpc';
export const CONNECTED = '200 Connected to Gee RPC';
const MAX_CONNECT_HEAD = 8192;

export interface ServerOptions {
  /** Largest gob or JSON message accepted from a client (default 16 MiB). */
  maxMessageBytes?: number;
  /** Calls one connection may have running at once before its socket stops being read (default 1024). */
  maxInflightPerConn?: number;
}

export interface GeeListener {
  /** The address clients dial, with the real port when 0 was asked for (e.g. tcp@127.0.0.1:40123). */
  readonly addr: string;
  close(): Promise<void>;
}

export class Server {
  readonly #services = new Map<string, Service>();
  readonly #limits: { maxMessageBytes: number; maxInflight: number };
  readonly #listeners = new Set<GeeListener>();
  readonly #sockets = new Set<Duplex>();

  constructor(opts: ServerOptions = {}) {
    this.#limits = { maxMessageBytes: opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, maxInflight: opts.maxInflightPerConn ?? 1024 };
  }

  /**
   * Publishes the exported methods of `receiver` as `name.Method`. Without a name, the receiver's
   * class name is used (as Go uses the receiver's type name).
   */
  register(receiver: object, opts: { name?: string; types?: Record<string, MethodTypes> } = {}): void {
    const name = opts.name ?? (receiver.constructor === Object ? undefined : receiver.constructor.name);
    if (name === undefined || name === '') throw new Error('rpc server: a plain object needs a service name ({ name })');
    if (this.#services.has(name)) throw new Error(`rpc: service already defined: ${name}`);
    const svc = new Service(name, receiver, opts.types);
    if (svc.methods.size === 0) throw new Error(`rpc server: ${name} has no exported methods (names must start with an upper-case letter)`);
    this.#services.set(name, svc);
  }

  get services(): Iterable<Service> {
    return this.#services.values();
  }

  /** Serves one connection (any duplex byte stream) until the peer leaves. */
  serveConn(socket: Duplex, initial?: Buffer, peer = 'peer'): void {
    this.#track(socket);
    new ServerConn(socket, (n) => this.#services.get(n), this.#limits, peer, initial);
  }

  /** Listens on tcp@host:port, unix@path or http@host:port; resolves once bound. */
  async listen(addr: string | RpcAddress): Promise<GeeListener> {
    const a = typeof addr === 'string' ? parseRpcAddress(addr) : addr;
    const http = a.protocol === 'http' ? this.#httpHandler() : undefined;
    const srv = createServer((socket) => {
      const peer = `${socket.remoteAddress ?? 'unix'}:${socket.remotePort ?? ''}`;
      this.#track(socket);
      if (http === undefined) this.serveConn(socket, undefined, peer);
      else this.#sniff(socket, http, peer);
    });
    if (a.protocol === 'unix') await rm(a.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      if (a.protocol === 'unix') srv.listen(a.path, resolve);
      else srv.listen(a.port, a.host, resolve);
    });
    srv.on('error', (err) => log.error('listener error', err));
    const bound = a.protocol === 'unix' ? a : { ...a, port: (srv.address() as { port: number }).port };
    const listener: GeeListener = {
      addr: formatRpcAddress(bound),
      close: () => this.#closeListener(srv, listener),
    };
    this.#listeners.add(listener);
    log.info('rpc server listening on', listener.addr);
    return listener;
  }

  /** Closes every listener and every open connection. */
  async close(): Promise<void> {
    const closing = Promise.all([...this.#listeners].map((l) => l.close()));
    for (const s of this.#sockets) s.destroy();
    await closing;
  }

  #track(socket: Duplex): void {
    if (this.#sockets.has(socket)) return;
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #closeListener(srv: NetServer, l: GeeListener): Promise<void> {
    this.#listeners.delete(l);
    return new Promise((resolve) => srv.close(() => resolve()));
  }

  /** Reads the request head far enough to tell a geerpc CONNECT from an ordinary HTTP request. */
  #sniff(socket: Socket, http: ReturnType<typeof createHttpServer>, peer: string): void {
    let buf: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const firstLf = buf.indexOf(0x0a);
      if (firstLf < 0 && buf.length < MAX_CONNECT_HEAD) return;
      const line = buf.toString('latin1', 0, firstLf < 0 ? buf.length : firstLf).replace(/\r$/, '');
      if (!line.startsWith('CONNECT ')) {
        socket.off('data', onData);
        socket.pause();
        socket.unshift(buf);
        http.emit('connection', socket);
        socket.resume();
        return;
      }
      const end = headEnd(buf);
      if (end < 0) {
        if (buf.length >= MAX_CONNECT_HEAD) {
          socket.end('HTTP/1.0 431 Request Header Fields Too Large\r\n\r\n');
          socket.off('data', onData);
        }
        return;
      }
      socket.off('data', onData);
      const [, path] = line.split(' ');
      if (path !== DEFAULT_RPC_PATH) {
        socket.end('HTTP/1.0 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n404 page not found\n');
        return;
      }
      socket.write(`HTTP/1.0 ${CONNECTED}\n\n`);
      this.serveConn(socket, buf.subarray(end), peer);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  }

  #httpHandler(): ReturnType<typeof createHttpServer> {
    const http = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === DEFAULT_RPC_PATH) {
        res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('405 must CONNECT\n');
        return;
      }
      if (path === DEFAULT_DEBUG_PATH) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(debugPage(this.#services.values()));
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
    });
    http.on('clientError', (_err, socket) => socket.destroy());
    return http;
  }
}

/** Index just past the blank line ending an HTTP head (LF or CRLF line ends), or -1. */
function headEnd(buf: Buffer): number {
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    if (buf[i + 1] === 0x0a) return i + 2;
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}
