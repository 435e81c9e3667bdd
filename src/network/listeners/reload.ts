/**
 * A config reload on one worker. Everything that can fail happens before anything is swapped:
 *
 *   compile routers ─▶ build changed clusters ─▶ build changed listeners (filter configs checked)
 *   ─▶ start new clusters (first DNS answer) ─▶ bind new listeners (TCP beside the old fd, SO_REUSEPORT)
 *   ─▶ swap clusters and routers in one synchronous step ─▶ retire replaced/removed listeners
 *
 * A failure before the swap aborts every staged piece, so the worker keeps serving the config it had.
 * Unchanged listeners are not touched: same fds, same connections. Retired listeners stop accepting
 * and tell their connections to go away (idle keep-alive ones close, busy ones after their response).
 */
import type { AccessLog } from '../../types/accesslog.js';
import type { RingsideConfig } from '../../config/types.js';
import type { ListenerReady } from '../../types/messages.js';
import type { StreamFilterChainFactory } from '../../types/stream.js';
import type { Routers } from '../../router/router.js';
import type { ClusterManager } from '../../upstream/cluster-manager.js';
import type { ListenerConfigInput, WorkerNetwork } from '../worker-network.js';
import { logger } from '../../common/log.js';

const log = logger('reload');

type ListenerConfig = RingsideConfig['servers'][number]['listeners'][number];

export interface ReloadTargets {
  routers: Routers;
  clusterManager: ClusterManager;
  network: WorkerNetwork;
  /** Per-listener tables the proxy filter reads when a listener is built. */
  listenerStreamFilters: Map<string, StreamFilterChainFactory[]>;
  accessLogs: Map<string, AccessLog>;
  streamFiltersOf(l: ListenerConfig, server: number, index: number): StreamFilterChainFactory[];
  accessLogOf(l: ListenerConfig): AccessLog | undefined;
  /** Every listener the worker serves for a config (configured ones and the Dapr ports). */
  listenersOf(config: RingsideConfig): ListenerConfigInput[];
}

/** Applies `next` in place of `current`; resolves with every listener in service and its address. */
export async function applyReload(t: ReloadTargets, current: RingsideConfig, next: RingsideConfig, bound: readonly ListenerReady[]): Promise<ListenerReady[]> {
  const before = new Map(current.servers.flatMap((s) => s.listeners).map((l) => [l.name, JSON.stringify(l)]));
  const savedFilters = new Map(t.listenerStreamFilters);
  const savedLogs = new Map(t.accessLogs);
  const openedLogs: AccessLog[] = [];
  /** Access logs of replaced listeners, closed once their last connection ends. */
  const replacedLogs = new Map<string, AccessLog>();
  let routers: ReturnType<Routers['prepare']> | undefined;
  let clusters: ReturnType<ClusterManager['prepare']> | undefined;
  let plan: ReturnType<WorkerNetwork['prepare']> | undefined;
  try {
    routers = t.routers.prepare(next.servers.flatMap((s) => s.routers));
    clusters = t.clusterManager.prepare(next.cluster_manager);
    next.servers.forEach((server, s) =>
      server.listeners.forEach((l, i) => {
        if (before.get(l.name) === JSON.stringify(l)) return;
        t.listenerStreamFilters.set(l.name, t.streamFiltersOf(l, s, i));
        const old = t.accessLogs.get(l.name);
        if (old !== undefined) replacedLogs.set(l.name, old);
        const opened = t.accessLogOf(l);
        if (opened === undefined) t.accessLogs.delete(l.name);
        else {
          openedLogs.push(opened);
          t.accessLogs.set(l.name, opened);
        }
      }),
    );
    plan = t.network.prepare(t.listenersOf(next));
    await clusters.start();
    await plan.bind(bound);
    // The swap: from the next request on, routes and clusters are the new ones together.
    clusters.swap();
    routers.swap();
    const names = new Set(next.servers.flatMap((s) => s.listeners).map((l) => l.name));
    for (const name of before.keys()) {
      if (names.has(name)) continue;
      const old = savedLogs.get(name);
      if (old !== undefined) replacedLogs.set(name, old);
      t.listenerStreamFilters.delete(name);
      t.accessLogs.delete(name);
    }
    await plan.retire((name) => {
      replacedLogs.get(name)?.close();
      replacedLogs.delete(name);
    });
    const c = plan.changes;
    log.info(
      `config applied: listeners +${c.added.length} ~${c.changed.length} -${c.removed.length} =${c.unchanged.length}; clusters changed: ${clusters.changed.join(', ') || 'none'}`,
    );
    return t.network.boundListeners();
  } catch (err) {
    routers?.abort();
    clusters?.abort();
    plan?.abort();
    for (const l of openedLogs) l.close();
    t.listenerStreamFilters.clear();
    for (const [k, v] of savedFilters) t.listenerStreamFilters.set(k, v);
    t.accessLogs.clear();
    for (const [k, v] of savedLogs) t.accessLogs.set(k, v);
    throw err;
  }
}
