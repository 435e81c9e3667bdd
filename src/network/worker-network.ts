/**
 * The Net/IO layer of one worker: builds its listeners from the validated listener configs, starts
 * them, stops accepting for a drain, closes what is left, and reports per-listener counters.
 *
 *   config.servers[].listeners[] ─▶ WorkerNetwork ─┬─ TcpListener (own SO_REUSEPORT fd per worker)
 *                                                  ├─ UnixListener (worker 0 only)
 *                                                  └─ InProcessListener (by name; RingPipe ends)
 *
 * Filter configs are validated when the WorkerNetwork is built (each factory's create), so a bad
 * filter config fails the worker's start-up, not its first connection.
 */
import type { RunLoop } from '../types/actor.js';
import type { ListenerReady } from '../types/messages.js';
import type {
  FactoryContext,
  ListenerFilter,
  ListenerStats,
  NetworkFilterFactory,
} from '../types/network.js';
import type { RingEndpoint, RingPipeDescriptor } from '../types/ring.js';
import { logger } from '../common/log.js';
import { parseListenAddress } from './address.js';
import type { ListenAddress } from './address.js';
import type { ChainInstaller, ListenerBase, ListenerSettings } from './listeners/base.js';
import { InProcessListener, InProcessListeners } from './listeners/inprocess.js';
import { TcpListener } from './listeners/tcp-listener.js';
import { UnixListener } from './listeners/unix-listener.js';
import type { ReusePortMode } from './listeners/reuseport.js';
import type { ReadMode } from './connection/wire.js';

const log = logger('network');

/** One network or listener filter entry as the config schema outputs it. */
export interface FilterConfigInput {
  type: string;
  config?: unknown;
  /** JSON path of `config`, for error messages. */
  path?: string;
}

/** A listener as the config schema outputs it (only what the Net/IO layer reads). */
export interface ListenerConfigInput {
  name: string;
  address: string;
  /** The parsed address, when the schema computed it. */
  endpoint?:
    | { kind: 'tcp'; host: string; port: number }
    | { kind: 'unix'; path: string }
    | { kind: 'drpc'; path: string }
    | { kind: 'inprocess'; name: string };
  /** false: no socket; reachable in-process by name only. */
  bind_port?: boolean;
  filter_chains: readonly { filters: readonly FilterConfigInput[] }[];
  listener_filters?: readonly FilterConfigInput[];
  idle_timeout_ms?: number;
  /** The schema's spelling of the idle timeout, in ms. */
  connection_idle_timeout?: number;
  max_connections?: number;
}

/** Listener filters are registered by name like network filters. */
export interface ListenerFilterFactory {
  create(config: unknown, path: string): ListenerFilter;
}

/**
 * A network filter that brings its own listener: a `drpc:/path` address is a SOCK_SEQPACKET socket,
 * which no byte-stream Connection can carry, so its one filter (`drpc`) builds the listener itself
 * from the listener's settings (listener filters, max_connections, name).
 */
export interface ListenerProvidingFilterFactory<D = unknown> extends NetworkFilterFactory<D> {
  createListener(config: unknown, path: string, ctx: FactoryContext<D>, listener: ListenerSettings & { socketPath: string; listenerPath: string }): ListenerBase;
}

function providesListener<D>(f: NetworkFilterFactory<D>): f is ListenerProvidingFilterFactory<D> {
  return typeof (f as Partial<ListenerProvidingFilterFactory<D>>).createListener === 'function';
}

export interface NamedRegistry<T> {
  require(name: string): T;
}

/** `D`: what the composition root hands every network filter factory (`ctx.services`). */
export interface WorkerNetworkOptions<D> {
  workerIndex: number;
  workerCount: number;
  listeners: readonly ListenerConfigInput[];
  networkFilters: NamedRegistry<NetworkFilterFactory<D>>;
  listenerFilters?: NamedRegistry<ListenerFilterFactory>;
  services: D;
  /** The worker's actor run loop: every connection's read and write loops run on it. */
  runLoop: RunLoop;
  /** Default max_connections for listeners that set none (ringside.limits.max_connections). */
  maxConnections?: number;
  readMode?: ReadMode;
  reusePort?: ReusePortMode;
}

export interface WorkerNetworkStats {
  activeConnections: number;
  totalConnections: number;
  listeners: ListenerStats[];
}

interface Planned {
  listener: ListenerBase;
  /** Configured port 0: bind what another worker bound instead, when known. */
  ephemeral: boolean;
  /** The in-process twin of a socket listener: serves dials by name, is not reported as bound. */
  twin?: boolean;
}

export class WorkerNetwork<D = unknown> {
  readonly inProcess = new InProcessListeners();
  readonly #planned: Planned[] = [];
  #started: ListenerBase[] = [];

  constructor(opts: WorkerNetworkOptions<D>) {
    const runLoop = opts.runLoop;
    opts.listeners.forEach((l, i) => {
      const path = `listeners[${i}]`;
      const where = this.#addressOf(l, path);
      if ((where.kind === 'unix' || where.kind === 'drpc') && opts.workerIndex !== 0) {
        // One fd per path: worker 0 serves Unix and dRPC listeners.
        log.debug(`listener ${l.name}: ${where.kind} socket served by worker 0; skipped on worker ${opts.workerIndex}`);
        return;
      }
      const chain = l.filter_chains[0];
      if (chain === undefined) throw new Error(`${path}.filter_chains: a listener needs a filter chain`);
      if (l.filter_chains.length > 1) log.warn(`listener ${l.name}: only the first filter chain is used`);
      const factoryCtx: FactoryContext<D> = { workerIndex: opts.workerIndex, listenerName: l.name, services: opts.services };
      const filterPath = (j: number): string => chain.filters[j]!.path || `${path}.filter_chains[0].filters[${j}].config`;
      const filterChain: ChainInstaller[] =
        where.kind === 'drpc' ? [] : chain.filters.map((f, j) => opts.networkFilters.require(f.type).create(f.config ?? {}, filterPath(j), factoryCtx));
      const listenerFilters = (l.listener_filters ?? []).map((f, j) => {
        if (opts.listenerFilters === undefined) throw new Error(`${path}.listener_filters[${j}]: no listener filters are registered`);
        return opts.listenerFilters.require(f.type).create(f.config ?? {}, f.path || `${path}.listener_filters[${j}].config`);
      });
      const idle = l.idle_timeout_ms ?? l.connection_idle_timeout;
      const max = l.max_connections ?? opts.maxConnections;
      const settings: ListenerSettings = {
        name: l.name,
        address: l.address,
        runLoop,
        filterChain,
        listenerFilters,
        ...(idle !== undefined ? { idleTimeoutMs: idle } : {}),
        ...(max !== undefined ? { maxConnections: max } : {}),
        ...(opts.readMode !== undefined ? { readMode: opts.readMode } : {}),
      };
      if (where.kind === 'tcp') {
        const tcp = new TcpListener({
          ...settings,
          host: where.host,
          port: where.port,
          ...(opts.reusePort !== undefined ? { reusePort: opts.reusePort } : {}),
        });
        this.#planned.push({ listener: tcp, ephemeral: where.port === 0 });
        this.#addTwin(settings, l.name);
      } else if (where.kind === 'unix') {
        this.#planned.push({ listener: new UnixListener({ ...settings, path: where.path }), ephemeral: false });
        this.#addTwin(settings, l.name);
      } else if (where.kind === 'drpc') {
        const only = chain.filters.length === 1 ? opts.networkFilters.require(chain.filters[0]!.type) : undefined;
        if (only === undefined || !providesListener(only)) {
          throw new Error(`${path}.filter_chains[0].filters: a drpc: listener takes exactly one filter, "drpc" (got ${chain.filters.map((f) => f.type).join(', ') || 'none'})`);
        }
        const listener = only.createListener(chain.filters[0]!.config ?? {}, filterPath(0), factoryCtx, { ...settings, socketPath: where.path, listenerPath: path });
        this.#planned.push({ listener, ephemeral: false });
      } else {
        const names = where.name === l.name ? [l.name] : [l.name, where.name];
        this.#planned.push({ listener: new InProcessListener(settings, this.inProcess, names), ephemeral: false });
      }
    });
  }

  /**
   * Layotto configs let a channel dial a socket listener by its name (its egress listener listens on
   * TCP and is reached through net.Pipe); the twin serves those dials with the same filter chain.
   */
  #addTwin(settings: ListenerSettings, name: string): void {
    this.#planned.push({ listener: new InProcessListener(settings, this.inProcess, [name]), ephemeral: false, twin: true });
  }

  #addressOf(l: ListenerConfigInput, path: string): ListenAddress {
    if (l.bind_port === false) return { kind: 'inproc', name: l.name };
    const ep = l.endpoint;
    if (ep !== undefined) return ep.kind === 'inprocess' ? { kind: 'inproc', name: ep.name } : ep;
    try {
      return parseListenAddress(l.address);
    } catch (err) {
      throw new Error(`${path}.address: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The listeners built for this worker (Unix ones only on worker 0). */
  listeners(): ListenerBase[] {
    return this.#planned.map((p) => p.listener);
  }

  /**
   * Starts every listener. `bound` lists what another worker bound: a listener configured with port 0
   * binds that worker's port, so all fds serve one address. Rejects (after stopping what started) when
   * one listener cannot start.
   */
  async start(bound: readonly ListenerReady[] = []): Promise<ListenerReady[]> {
    const ready: ListenerReady[] = [];
    for (const p of this.#planned) {
      const l = p.listener;
      if (p.ephemeral && l instanceof TcpListener) {
        const other = bound.find((b) => b.name === l.name);
        const port = other === undefined ? undefined : Number(/:(\d+)$/.exec(other.address)?.[1]);
        if (port !== undefined && Number.isInteger(port) && port > 0) l.setPortOverride(port);
      }
      try {
        await l.start();
      } catch (err) {
        await this.stopAccepting();
        throw err;
      }
      this.#started.push(l);
      if (p.twin !== true) ready.push({ name: l.name, address: l.address });
    }
    return ready;
  }

  async stopAccepting(): Promise<void> {
    const started = this.#started;
    this.#started = [];
    await Promise.all(started.map((l) => l.stopAccepting()));
  }

  activeConnections(): number {
    let n = 0;
    for (const p of this.#planned) n += p.listener.stats().activeConnections;
    return n;
  }

  closeConnections(reason: string): void {
    for (const p of this.#planned) p.listener.closeConnections(reason);
  }

  /** One entry per configured listener; a twin's connections count toward its socket listener. */
  listenerStats(): ListenerStats[] {
    const out: ListenerStats[] = [];
    for (const p of this.#planned) if (p.twin !== true) out.push(p.listener.stats());
    for (const p of this.#planned) {
      if (p.twin !== true) continue;
      const twin = p.listener.stats();
      const owner = out.find((s) => s.name === twin.name);
      if (owner === undefined) continue;
      owner.activeConnections += twin.activeConnections;
      owner.totalConnections += twin.totalConnections;
      owner.rejectedConnections += twin.rejectedConnections;
    }
    return out;
  }

  stats(): WorkerNetworkStats {
    const listeners = this.listenerStats();
    let active = 0;
    let total = 0;
    for (const s of listeners) {
      active += s.activeConnections;
      total += s.totalConnections;
    }
    return { activeConnections: active, totalConnections: total, listeners };
  }

  /** A pipe dialed on another worker (pipe.dial MeshMessage); throws with the refusal reason. */
  acceptRemote(listener: string, descriptor: RingPipeDescriptor): void {
    const r = this.inProcess.acceptRemote(listener, descriptor);
    if (!r.ok) throw new Error(r.refused);
  }

  /** Dials an in-process listener on this worker (what a Layotto channel does). */
  readonly dialInProcess = (name: string): RingEndpoint => this.inProcess.dial(name);
}
