/**
 * What the worker runtime needs from the Net/IO layer (src/network), written down as a port so the
 * spine depends on a contract rather than on one implementation. The worker entry
 * (src/worker/runtime.ts) builds the worker-wide parts (WorkerDeps) and calls a NetworkFactory —
 * the composition root's assembleDataplane (src/assembly.ts) in the product — with them.
 *
 *   worker entry ─ NetworkContext {config, worker: WorkerDeps} ─▶ assembleDataplane(ctx, extensions)
 *     ─▶ DataplaneDeps (routers, clusters, runtime host, … + WorkerDeps) ─▶ every factory's ctx.services
 */
import type { RunLoop, PlacementAdvisor } from '../types/actor.js';
import type { ListenerReady } from '../types/messages.js';
import type { ListenerStats } from '../types/network.js';
import type { OffloadRunner } from '../types/offload.js';
import type { RingEndpoint, RingPipeDescriptor } from '../types/ring.js';
import type { UpstreamClusterSample } from '../types/observability.js';
import type { RingsideConfig } from '../config/types.js';

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
  /**
   * Config reload: puts `config` (validated by the supervisor) in force on this worker — listeners
   * added, replaced or removed, routers and clusters swapped between requests. Throws with nothing
   * changed when it cannot. Resolves with the listeners it bound (new port-0 ones get real ports).
   */
  apply?(config: unknown, bound: readonly ListenerReady[]): Promise<ListenerReady[]>;
  /** Accepts the far end of a RingPipe dialed on another worker; throws with the refusal reason. */
  acceptRemote(listener: string, descriptor: RingPipeDescriptor): void;
  /** Dials an in-process listener on this worker (both pipe ends here). */
  dialInProcess?(name: string): RingEndpoint;
  /** This worker's upstream clusters, for /metrics. */
  clusterStats?(): readonly UpstreamClusterSample[];
}

/** What the worker entry builds before the data plane and hands to it. */
export interface WorkerDeps {
  /** The worker's actor run loop. */
  readonly runLoop: RunLoop;
  /** The worker's piscina pool; absent when a test builds one data plane without a worker. */
  readonly offload?: OffloadRunner;
  /** Dials an in-process listener by name on the worker the scheduler picks; absent: this worker's. */
  readonly dialInProcess?: (name: string) => RingEndpoint;
  /** Whether a connection dialInProcess made should be re-dialed elsewhere (channel pools ask). */
  readonly placement?: PlacementAdvisor;
}

export interface NetworkContext {
  readonly workerIndex: number;
  readonly workerCount: number;
  /** The config the main thread validated (the whole document, normalized). */
  readonly config: RingsideConfig;
  readonly worker: WorkerDeps;
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
