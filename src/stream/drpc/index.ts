/**
 * dRPC on the data plane, as the composition root registers it: the stream connection of
 * drpc:/path listeners and the upstream client for drpc:/path hosts. Both load their modules on
 * first use, because those compile the dRPC envelope with protobufjs, which the main thread (it
 * builds the extensions to validate configs) must not load: a drpc: listener loads the stream
 * connection before it listens (DrpcListener.start), the client factory on its first connect.
 */
import { RingsideError } from '../../common/errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../drpc/status.js';
import type { Connection } from '../../types/network.js';
import type { StreamClientFactory } from '../../types/proxy.js';
import type { ServerStreamConnection, ServerStreamConnectionOptions } from '../../types/stream.js';
import type { ConnectCallback, Host, UpstreamClientEvents } from '../../types/upstream.js';
import type { DrpcClientFactory, DrpcClientFactoryOptions } from './client.js';

/** The largest message a session or client takes: ringside.limits.max_body_bytes when finite, else 4 MiB. */
export function maxMessageBytesOf(limits: ServerStreamConnectionOptions['limits']): number {
  const n = limits?.maxBodyBytes;
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : DEFAULT_MAX_MESSAGE_BYTES;
}

let serverModule: typeof import('./server-connection.js') | undefined;

/** Loads the stream connection (DrpcListener.start awaits it before accepting). */
export async function loadDrpcStream(): Promise<void> {
  serverModule ??= await import('./server-connection.js');
}

/** The stream connection factory registered as `drpc`. */
export function drpcServerFactory(connection: Connection, options: ServerStreamConnectionOptions): ServerStreamConnection {
  if (serverModule === undefined) throw new Error('the dRPC stream connection is not loaded: only a started drpc: listener serves downstream_protocol drpc');
  return serverModule.drpcServerConnection(connection, options);
}

/** The upstream client registered as `drpc`; the client module loads on the first connect. */
export class LazyDrpcClientFactory implements StreamClientFactory {
  readonly protocol = 'drpc';
  readonly #opts: DrpcClientFactoryOptions;
  #real: DrpcClientFactory | undefined;

  constructor(opts: DrpcClientFactoryOptions) {
    this.#opts = opts;
  }

  connect(host: Host, events: UpstreamClientEvents, done: ConnectCallback): void {
    if (this.#real !== undefined) {
      this.#real.connect(host, events, done);
      return;
    }
    import('./client.js').then(
      (m) => {
        this.#real ??= new m.DrpcClientFactory(this.#opts);
        this.#real.connect(host, events, done);
      },
      (err: unknown) => done(new RingsideError('CONNECT_FAILED', 'internal', `cannot load the dRPC client: ${(err as Error).message}`, { retryable: false }), undefined),
    );
  }
}
