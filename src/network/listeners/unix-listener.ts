/**
 * A Unix socket listener. Only one fd can be bound to a path, so with several workers worker 0 owns
 * Unix listeners and the others skip them (WorkerNetwork); a worker respawned after a crash finds the
 * path stale (its fd died with it) and binds it again.
 */
import net from 'node:net';
import { logger } from '../../common/log.js';
import { ListenerBase } from './base.js';
import type { ListenerSettings } from './base.js';
import { claimUnixPath } from './unix-path.js';

const log = logger('network');

export interface UnixListenerOptions extends ListenerSettings {
  path: string;
}

export class UnixListener extends ListenerBase {
  readonly #path: string;
  #server: net.Server | null = null;

  constructor(opts: UnixListenerOptions) {
    super(opts);
    this.#path = opts.path;
  }

  get address(): string {
    return this.#path;
  }

  async start(): Promise<void> {
    if (this.#server !== null) return;
    try {
      await claimUnixPath(this.#path);
    } catch (err) {
      throw new Error(`listener ${this.name}: ${(err as Error).message}`, { cause: err });
    }
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => this.acceptSocket(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new Error(`listener ${this.name}: cannot listen on ${this.#path}: ${err.code ?? err.message}`, { cause: err })),
      );
      server.listen(this.#path, () => resolve());
    });
    server.removeAllListeners('error');
    server.on('error', (err) => log.error(`listener ${this.name}: accept failed`, err));
    this.#server = server;
    this.accepting = true;
    this.startTls();
  }

  async stopAccepting(): Promise<void> {
    const server = this.#server;
    this.accepting = false;
    this.stopTls();
    if (server === null) return;
    this.#server = null;
    server.close(); // libuv unlinks the socket file
    this.notifyClosed();
  }
}
