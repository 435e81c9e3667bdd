/**
 * The `drpc` network filter: the one filter of a `drpc:/path.sock` listener. It builds that listener
 * (WorkerNetwork asks it to, since no byte-stream filter chain can carry SEQPACKET sessions) and binds
 * it to the worker's runtime server named in its config. On any other listener it is a config error.
 */
import { parseWithSpec } from '../../config/filters.js';
import type { FactoryContext } from '../../types/network.js';
import type { ListenerProvidingFilterFactory } from '../../network/worker-network.js';
import type { ListenerSettings } from '../../network/listeners/base.js';
import type { RuntimeDeps } from '../host.js';
import { RuntimeConfigError } from '../config.js';
import { drpcFilterSpec } from './config.js';
import { DrpcRuntimeListener } from './listener.js';

export const drpcFilterFactory: ListenerProvidingFilterFactory<RuntimeDeps> = {
  create(_config: unknown, path: string): never {
    throw new RuntimeConfigError(path, 'the drpc filter serves a listener whose address is drpc:/path/to.sock; put it on such a listener');
  },

  createListener(config: unknown, path: string, ctx: FactoryContext<RuntimeDeps>, listener: ListenerSettings & { socketPath: string; listenerPath: string }): DrpcRuntimeListener {
    const { config: c } = parseWithSpec('drpc filter', drpcFilterSpec, config, path);
    const { runtime } = ctx.services;
    if (listener.idleTimeoutMs !== undefined && listener.idleTimeoutMs > 0) {
      throw new RuntimeConfigError(`${listener.listenerPath}.connection_idle_timeout`, 'not supported on a drpc: listener (dRPC sessions have no idle timeout)');
    }
    return new DrpcRuntimeListener({
      ...listener,
      socketMode: c.socket_mode,
      maxMessageBytes: c.max_message_bytes ?? runtime.maxGrpcMessageBytes,
      module: {
        serverName: c.server_name,
        invoker: () => runtime.server(c.server_name)?.invoker,
        streamFilters: () => runtime.streamFilters(c.server_name),
      },
    });
  },
};
