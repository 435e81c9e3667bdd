/**
 * What the worker runtime needs from the Net/IO layer (src/network), written down as a port so the
 * spine depends on a contract rather than on one implementation. The composition root
 * (src/extensions.ts) supplies the factory that builds it from config.
 */
import type { ListenerReady } from '../types/messages.js';
import type { ListenerStats, WorkerServices } from '../types/network.js';
import type { RingEndpoint, RingPipeDescriptor } from '../types/ring.js';
import type { UpstreamClusterSample } from '../types/observability.js';
import type { Extensions } from '../extensions.js';

export interface WorkerNetwork {
  /**
   * Starts every listener in `config.servers[].listeners[]` on this worker. `bound` lists addresses
   * another worker already bound: a listener configured with port 0 must bind that port instead, so
   * all workers' fds serve one address. Resolves with the real bound addresses.
   */
  start(bound: readonly ListenerReady[]): Promise<ListenerReady[]>;
  /** Drain, step one: stop accepting on every listener; open connections carry on. */
  stopAccepting(): Promise<void>;
  /** Connections open on this worker, all listeners together (what the load board publishes). */
  activeConnections(): number;
  /** Drain, last step: closes what is still open. */
  closeConnections(reason: string): void;
  listenerStats(): ListenerStats[];
  /** Accepts the far end of a RingPipe dialed on another worker; throws with the refusal reason. */
  acceptRemote(listener: string, descriptor: RingPipeDescriptor): void;
  /** Dials an in-process listener on this worker (both pipe ends here). */
  dialInProcess?(name: string): RingEndpoint;
  /** This worker's upstream clusters, for /metrics. */
  clusterStats?(): readonly UpstreamClusterSample[];
}

export interface NetworkContext {
  workerIndex: number;
  workerCount: number;
  /** The validated config (the whole document). */
  config: unknown;
  extensions: Extensions;
  services: WorkerServices;
}

export type NetworkFactory = (ctx: NetworkContext) => WorkerNetwork;

/** Used until a network factory is wired: no listeners, so a worker still boots, drains and reports. */
export function emptyNetwork(): WorkerNetwork {
  return {
    start: async () => [],
    stopAccepting: async () => {},
    activeConnections: () => 0,
    closeConnections: () => {},
    listenerStats: () => [],
    acceptRemote: (listener) => {
      throw new Error(`no in-process listener "${listener}" on this worker`);
    },
  };
}
