/**
 * A TCP listener whose listening fd belongs to this worker alone (SO_REUSEPORT; see reuseport.ts).
 *
 * Port 0 with several workers: worker 0 binds port 0 and the kernel picks a port; the supervisor
 * passes that port to the other workers as `portOverride`, so every worker's fd serves one address.
 */
import net from 'node:net';
import { lookup } from 'node:dns/promises';
import { logger } from '../../common/log.js';
import { formatHostPort } from '../address.js';
import { ListenerBase } from './base.js';
import type { ListenerSettings } from './base.js';
import { nativeReusePort, reusePortSocket } from './reuseport.js';
import type { ReusePortMode } from './reuseport.js';

const log = logger('network');

export interface TcpListenerOptions extends ListenerSettings {
  host: string;
  port: number;
  /** Binds this port instead of `port` (another worker's port-0 choice). */
  portOverride?: number;
  /** How to get a per-worker fd; default: native on Node >= 22.12, FFI before. */
  reusePort?: ReusePortMode;
  backlog?: number;
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'address in use by a socket that did not set SO_REUSEPORT (another program, or another user)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the host is not an address of this machine',
};

export class TcpListener extends ListenerBase {
  readonly #opts: TcpListenerOptions;
  #server: net.Server | null = null;
  #boundPort = 0;
  #host: string;
  #portOverride: number | undefined;

  constructor(opts: TcpListenerOptions) {
    super(opts);
    this.#opts = opts;
    this.#host = opts.host;
    this.#portOverride = opts.portOverride;
  }

  get address(): string {
    return formatHostPort(this.#host, this.#boundPort !== 0 ? this.#boundPort : (this.#portOverride ?? this.#opts.port));
  }

  /** Binds `port` instead of the configured one: another worker's choice for a port-0 listener. */
  setPortOverride(port: number): void {
    this.#portOverride = port;
  }

  /** The port the fd is bound to (after start). */
  get port(): number {
    return this.#boundPort;
  }

  /** The listening fd number, distinct on every worker (tests prove it). */
  get fd(): number {
    const handle = (this.#server as unknown as { _handle?: { fd?: number } } | null)?._handle;
    return handle?.fd ?? -1;
  }

  async start(): Promise<void> {
    if (this.#server !== null) return;
    const o = this.#opts;
    const port = this.#portOverride ?? o.port;
    const backlog = o.backlog ?? 511;
    let host = o.host;
    if (net.isIP(host) === 0) host = (await lookup(host)).address;
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => this.acceptSocket(socket));
    const mode = o.reusePort ?? (nativeReusePort ? 'native' : 'ffi');
    try {
      if (mode === 'native') {
        await listen(server, { host, port, backlog, reusePort: true } as net.ListenOptions);
      } else {
        const fd = reusePortSocket(host, port, backlog);
        try {
          await listen(server, { fd, backlog } as net.ListenOptions); // Node's documented {fd} handle form
        } catch (err) {
          server.close();
          throw err;
        }
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const why = REASONS[code] ?? (err as Error).message;
      throw new Error(`listener ${this.name}: cannot listen on ${formatHostPort(host, port)}: ${code} ${why}`.replace(':  ', ': '), {
        cause: err,
      });
    }
    server.on('error', (err) => log.error(`listener ${this.name}: accept failed`, err));
    this.#server = server;
    this.#host = host;
    this.#boundPort = (server.address() as net.AddressInfo).port;
    this.accepting = true;
    this.startTls();
    log.debug(`listener ${this.name} accepting on ${this.address} (fd ${this.fd}, ${mode})`);
  }

  async stopAccepting(): Promise<void> {
    const server = this.#server;
    this.accepting = false;
    this.stopTls();
    if (server === null) return;
    this.#server = null;
    // libuv closes the fd inside close(): from here the kernel sends new connections to other workers.
    server.close();
    this.notifyClosed();
  }
}

function listen(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(options, () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
}
