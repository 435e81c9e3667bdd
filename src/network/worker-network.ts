/**
 * The Net/IO layer of one worker: builds its listeners from the validated listener configs, starts
 * them, stops accepting for a drain, closes what is left, and reports per-listener counters.
 *
 *   config.servers[].listeners[] ─▶ WorkerNetwork ─┬─ TcpListener (own SO_REUSEPORT fd per worker)
 *                                                  ├─ UnixListener (worker 0 only)
 *                                                  ├─ DrpcListener / the drpc filter's (worker 0 only)
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
import { splitHostPort } from '../common/address.js';
import type { ListenAddress } from './address.js';
import type { ChainInstaller, ListenerBase, ListenerSettings } from './listeners/base.js';
import { InProcessListener, InProcessListeners } from './listeners/inprocess.js';
import { TcpListener } from './listeners/tcp-listener.js';
import { UnixListener } from './listeners/unix-listener.js';
import { DrpcListener } from './listeners/drpc-listener.js';
import { DEFAULT_SOCKET_MODE } from '../drpc/status.js';
import type { ReusePortMode } from './listeners/reuseport.js';
import type { ReadMode } from './connection/wire.js';
import { DownstreamTls } from './tls/downstream.js';
import type { TlsContextConfig } from './tls/schema.js';

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
  filter_chains: readonly {
    filters: readonly FilterConfigInput[];
    tls_context?: TlsContextConfig | undefined;
    tls_context_set?: readonly TlsContextConfig[] | undefined;
    filter_chain_match?: { server_names: readonly string[] } | undefined;
  }[];
  listener_filters?: readonly FilterConfigInput[];
  idle_timeout_ms?: number;
  /** The schema's spelling of the idle timeout, in ms. */
  connection_idle_timeout?: number;
  max_connections?: number;
  /** File mode of a drpc: listener's socket file when it runs the proxy filter (default 0600). */
  socket_mode?: number;
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
  /** ringside.tls: handshake timeout and how often certificate files are checked (ms). */
  tls?: { handshakeTimeoutMs: number; checkIntervalMs: number };
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

/** One configured listener on this worker: what it was built from and the listeners serving it. */
interface Entry {
  name: string;
  /** The listener's config as JSON: a reload keeps an entry whose config did not change. */
  fingerprint: string;
  planned: Planned[];
  /** Its connections' go-away scope (absent when the worker has no downstream drain). */
  drain?: { goAwayAll(): void; release(): void };
}

/** The go-away registry the proxy filter reads from the worker services (src/stream/drain.ts). */
interface DrainScopes {
  scope(): { goAwayAll(): void; release(): void };
}

/** What a reload changed on this worker's listeners. */
export interface ListenerChanges {
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
}

/**
 * A reload staged by prepare(): listeners built (filter configs validated) but nothing bound yet.
 * bind() starts the new ones (an error stops what it started and changes nothing); retire() then
 * stops the replaced and removed ones accepting and tells their connections to go away.
 */
export interface ListenerPlan {
  readonly changes: ListenerChanges;
  bind(bound: readonly ListenerReady[]): Promise<ListenerReady[]>;
  retire(onEmpty?: (listener: string) => void): Promise<void>;
  /** Drops what prepare() built when the reload fails before bind(). */
  abort(): void;
}

export class WorkerNetwork<D = unknown> {
  readonly inProcess = new InProcessListeners();
  /** Builds one listener config's entry (kept as a closure, so the class does not vary with D). */
  readonly #build: (l: ListenerConfigInput, i: number) => Entry | null;
  #entries = new Map<string, Entry>();
  /** Listeners a reload replaced or removed that still hold connections; dropped once empty. */
  readonly #retired = new Set<{ entry: Entry; onEmpty?: () => void }>();
  #started: ListenerBase[] = [];
  #retireTimer: NodeJS.Timeout | null = null;

  constructor(opts: WorkerNetworkOptions<D>) {
    this.#build = (l, i) => buildEntry(opts, this.inProcess, l, i);
    opts.listeners.forEach((l, i) => {
      const entry = this.#build(l, i);
      if (entry !== null) this.#entries.set(l.name, entry);
    });
  }

  #planned(): Planned[] {
    const out: Planned[] = [];
    for (const e of this.#entries.values()) out.push(...e.planned);
    return out;
  }

  /** Every listener in service and retired-but-not-empty, for counting and closing connections. */
  #all(): ListenerBase[] {
    const out = this.#planned().map((p) => p.listener);
    for (const r of this.#retired) for (const p of r.entry.planned) out.push(p.listener);
    return out;
  }

  /** The listeners built for this worker (Unix ones only on worker 0). */
  listeners(): ListenerBase[] {
    return this.#planned().map((p) => p.listener);
  }

  /**
   * Starts every listener. `bound` lists what another worker bound: a listener configured with port 0
   * binds that worker's port, so all fds serve one address. Rejects (after stopping what started) when
   * one listener cannot start.
   */
  async start(bound: readonly ListenerReady[] = []): Promise<ListenerReady[]> {
    try {
      return await this.#startAll(this.#planned(), bound, new Map());
    } catch (err) {
      await this.stopAccepting();
      throw err;
    }
  }

  /** Starts `planned` in order; on a failure stops those it started and rethrows. */
  async #startAll(planned: readonly Planned[], bound: readonly ListenerReady[], keepPort: ReadonlyMap<string, number>): Promise<ListenerReady[]> {
    const ready: ListenerReady[] = [];
    const startedHere: ListenerBase[] = [];
    for (const p of planned) {
      const l = p.listener;
      if (p.ephemeral && l instanceof TcpListener) {
        const other = bound.find((b) => b.name === l.name);
        const port = other === undefined ? keepPort.get(l.name) : splitHostPort(other.address)?.port;
        if (port !== undefined && Number.isInteger(port) && port > 0) l.setPortOverride(port);
      }
      try {
        await l.start();
      } catch (err) {
        await Promise.all(startedHere.map((s) => s.stopAccepting()));
        this.#started = this.#started.filter((s) => !startedHere.includes(s));
        throw err;
      }
      startedHere.push(l);
      this.#started.push(l);
      if (p.twin !== true) ready.push({ name: l.name, address: l.address });
    }
    return ready;
  }

  /**
   * Stages a reload of the listeners: entries whose config is unchanged are kept as they are (same fds,
   * same connections); new and changed ones are built now, so a bad filter config throws here with
   * nothing changed. See ListenerPlan for the rest.
   */
  prepare(listeners: readonly ListenerConfigInput[]): ListenerPlan {
    const next = new Map<string, Entry>();
    const fresh: Entry[] = [];
    const changes: ListenerChanges = { added: [], changed: [], removed: [], unchanged: [] };
    try {
      listeners.forEach((l, i) => {
        const old = this.#entries.get(l.name);
        if (old !== undefined && old.fingerprint === JSON.stringify(l)) {
          next.set(l.name, old);
          changes.unchanged.push(l.name);
          return;
        }
        const entry = this.#build(l, i);
        if (entry === null) return;
        next.set(l.name, entry);
        fresh.push(entry);
        (old === undefined ? changes.added : changes.changed).push(l.name);
      });
    } catch (err) {
      for (const e of fresh) e.drain?.release();
      throw err;
    }
    const replaced = [...this.#entries.values()].filter((e) => next.get(e.name) !== e);
    for (const e of replaced) if (!next.has(e.name)) changes.removed.push(e.name);
    let bound = false;
    return {
      changes,
      bind: async (others) => {
        // A changed port-0 listener keeps the port it had, so its clients reach the new one.
        const keepPort = new Map<string, number>();
        for (const e of replaced) for (const p of e.planned) if (p.listener instanceof TcpListener && p.listener.port > 0) keepPort.set(e.name, p.listener.port);
        // Sockets other than TCP cannot share their address with the listener they replace: that one
        // stops first. TCP ones bind beside it (SO_REUSEPORT), so no connection is refused meanwhile.
        const ready: ListenerReady[] = [];
        const newPlanned = fresh.flatMap((e) => e.planned);
        const tcpFirst = newPlanned.filter((p) => p.listener instanceof TcpListener);
        const rest = newPlanned.filter((p) => !(p.listener instanceof TcpListener));
        try {
          ready.push(...(await this.#startAll(tcpFirst, others, keepPort)));
        } catch (err) {
          for (const e of fresh) e.drain?.release();
          throw err;
        }
        // The replaced entries' in-process, Unix and dRPC listeners give their names and paths up now.
        await Promise.all(replaced.flatMap((e) => e.planned.filter((p) => !(p.listener instanceof TcpListener)).map((p) => p.listener.stopAccepting())));
        try {
          ready.push(...(await this.#startAll(rest, others, keepPort)));
        } catch (err) {
          await Promise.all(tcpFirst.map((p) => p.listener.stopAccepting()));
          // Put the replaced ones back: their TCP fds never closed, the rest bind again.
          await Promise.all(replaced.flatMap((e) => e.planned.filter((p) => !(p.listener instanceof TcpListener)).map((p) => p.listener.start())));
          for (const e of fresh) e.drain?.release();
          throw err;
        }
        bound = true;
        this.#entries = next;
        return ready;
      },
      abort: () => {
        if (!bound) for (const e of fresh) e.drain?.release();
      },
      retire: async (onEmpty) => {
        if (!bound) return;
        for (const e of replaced) {
          await Promise.all(e.planned.map((p) => p.listener.stopAccepting()));
          this.#started = this.#started.filter((s) => !e.planned.some((p) => p.listener === s));
          // Idle keep-alive connections close now, busy ones after their response (Connection: close).
          e.drain?.goAwayAll();
          this.#retired.add({ entry: e, ...(onEmpty !== undefined ? { onEmpty: () => onEmpty(e.name) } : {}) });
        }
        this.#sweepRetired();
      },
    };
  }

  /** Drops retired listeners whose last connection ended (polled while any remain). */
  #sweepRetired(): void {
    for (const r of this.#retired) {
      if (r.entry.planned.some((p) => p.listener.stats().activeConnections > 0)) continue;
      this.#retired.delete(r);
      r.entry.drain?.release();
      r.onEmpty?.();
      log.debug(`listener ${r.entry.name}: retired listener has no connection left`);
    }
    if (this.#retired.size > 0 && this.#retireTimer === null) {
      this.#retireTimer = setTimeout(() => {
        this.#retireTimer = null;
        this.#sweepRetired();
      }, 200);
      this.#retireTimer.unref();
    }
  }

  /** Every listener in service on this worker and its address (twins left out), as start() reports them. */
  boundListeners(): ListenerReady[] {
    return this.#planned()
      .filter((p) => p.twin !== true)
      .map((p) => ({ name: p.listener.name, address: p.listener.address }));
  }

  /** Names of the listeners a reload retired that still hold connections. */
  retiredListeners(): string[] {
    return [...this.#retired].map((r) => r.entry.name);
  }

  async stopAccepting(): Promise<void> {
    const started = this.#started;
    this.#started = [];
    await Promise.all(started.map((l) => l.stopAccepting()));
  }

  activeConnections(): number {
    let n = 0;
    for (const l of this.#all()) n += l.stats().activeConnections;
    return n;
  }

  closeConnections(reason: string): void {
    for (const l of this.#all()) l.closeConnections(reason);
  }

  /**
   * One entry per configured listener; a twin's connections count toward its socket listener, and so
   * do those of the listener a reload replaced while they last.
   */
  listenerStats(): ListenerStats[] {
    const out: ListenerStats[] = [];
    const planned = this.#planned();
    for (const p of planned) if (p.twin !== true) out.push(p.listener.stats());
    const extra: ListenerBase[] = planned.filter((p) => p.twin === true).map((p) => p.listener);
    for (const r of this.#retired) for (const p of r.entry.planned) extra.push(p.listener);
    for (const l of extra) {
      const s = l.stats();
      const owner = out.find((o) => o.name === s.name);
      if (owner === undefined) {
        if (s.activeConnections > 0) out.push({ ...s });
        continue;
      }
      owner.activeConnections += s.activeConnections;
      owner.totalConnections += s.totalConnections;
      owner.rejectedConnections += s.rejectedConnections;
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

/** Builds the listeners of one config entry (filter chains validated); null when another worker serves it. */
function buildEntry<D>(opts: WorkerNetworkOptions<D>, inProcess: InProcessListeners, l: ListenerConfigInput, i: number): Entry | null {
  const runLoop = opts.runLoop;
  const path = `listeners[${i}]`;
  const where = addressOf(l, path);
  if ((where.kind === 'unix' || where.kind === 'drpc') && opts.workerIndex !== 0) {
    // One fd per path: worker 0 serves Unix and dRPC listeners.
    log.debug(`listener ${l.name}: ${where.kind} socket served by worker 0; skipped on worker ${opts.workerIndex}`);
    return null;
  }
  const chain = l.filter_chains[0];
  if (chain === undefined) throw new Error(`${path}.filter_chains: a listener needs a filter chain`);
  const tlsChains = l.filter_chains.map((c) => ({
    serverNames: c.filter_chain_match?.server_names ?? [],
    contexts: [...(c.tls_context !== undefined ? [c.tls_context] : []), ...(c.tls_context_set ?? [])].filter((t) => t.status),
  }));
  const withTls = tlsChains.some((c) => c.contexts.length > 0);
  if (l.filter_chains.length > 1 && !withTls) log.warn(`listener ${l.name}: only the first filter chain is used (several chains are told apart by the TLS SNI)`);
  const drains = (opts.services as { downstreamDrain?: DrainScopes } | null)?.downstreamDrain;
  const drain = typeof drains?.scope === 'function' ? drains.scope() : undefined;
  // Each listener's connections get their own go-away scope, so a reload can retire one listener.
  const services: D = drain === undefined ? opts.services : { ...opts.services, downstreamDrain: drain };
  const factoryCtx: FactoryContext<D> = { workerIndex: opts.workerIndex, listenerName: l.name, services };
  const filterPath = (j: number): string => chain.filters[j]!.path || `${path}.filter_chains[0].filters[${j}].config`;
  const planned: Planned[] = [];
  try {
    const installers = (c: (typeof l.filter_chains)[number], ci: number): ChainInstaller[] =>
      c.filters.map((f, j) => opts.networkFilters.require(f.type).create(f.config ?? {}, f.path || `${path}.filter_chains[${ci}].filters[${j}].config`, factoryCtx));
    // A drpc: listener is either the runtime's (its one filter, drpc, builds the listener) or runs a
    // proxy filter chain on its packet sessions.
    const provider = where.kind === 'drpc' && chain.filters.length === 1 ? opts.networkFilters.require(chain.filters[0]!.type) : undefined;
    const ownListener = provider !== undefined && providesListener(provider) ? provider : undefined;
    if (where.kind === 'drpc' && ownListener === undefined && (chain.filters.length !== 1 || chain.filters[0]!.type !== 'proxy')) {
      throw new Error(`${path}.filter_chains[0].filters: a drpc: listener takes exactly one filter, "drpc" (the runtime API) or "proxy" (got ${chain.filters.map((f) => f.type).join(', ') || 'none'})`);
    }
    const filterChain: ChainInstaller[] = ownListener !== undefined ? [] : installers(chain, 0);
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
    const twin = (): void => {
      // Layotto configs let a channel dial a socket listener by its name (its egress listener listens
      // on TCP and is reached through net.Pipe); the twin serves those dials with the same (default)
      // chain, without TLS: those bytes never leave the process.
      planned.push({ listener: new InProcessListener(settings, inProcess, [l.name]), ephemeral: false, twin: true });
    };
    // The socket listener's settings: with TLS, the handshake engine and every chain's installers.
    let socketSettings: ListenerSettings = settings;
    if (withTls && (where.kind === 'tcp' || where.kind === 'unix')) {
      let downstream: DownstreamTls;
      try {
        downstream = new DownstreamTls({
          listenerName: l.name,
          chains: tlsChains,
          handshakeTimeoutMs: opts.tls?.handshakeTimeoutMs ?? 10_000,
          checkIntervalMs: opts.tls?.checkIntervalMs ?? 5_000,
        });
      } catch (err) {
        throw new Error(`${path}.filter_chains: cannot load the TLS certificates: ${(err as Error).message}`, { cause: err });
      }
      const chains = l.filter_chains.map((c, ci) => (ci === 0 ? filterChain : installers(c, ci)));
      socketSettings = { ...settings, tls: { downstream, chains } };
    }
    if (where.kind === 'tcp') {
      const tcp = new TcpListener({
        ...socketSettings,
        host: where.host,
        port: where.port,
        ...(opts.reusePort !== undefined ? { reusePort: opts.reusePort } : {}),
      });
      planned.push({ listener: tcp, ephemeral: where.port === 0 });
      twin();
    } else if (where.kind === 'unix') {
      planned.push({ listener: new UnixListener({ ...socketSettings, path: where.path }), ephemeral: false });
      twin();
    } else if (where.kind === 'drpc') {
      if (ownListener !== undefined) {
        const listener = ownListener.createListener(chain.filters[0]!.config ?? {}, filterPath(0), factoryCtx, { ...settings, socketPath: where.path, listenerPath: path });
        planned.push({ listener, ephemeral: false });
      } else {
        planned.push({ listener: new DrpcListener({ ...settings, socketPath: where.path, socketMode: l.socket_mode ?? DEFAULT_SOCKET_MODE }), ephemeral: false });
      }
    } else {
      const names = where.name === l.name ? [l.name] : [l.name, where.name];
      planned.push({ listener: new InProcessListener(settings, inProcess, names), ephemeral: false });
    }
  } catch (err) {
    drain?.release();
    throw err;
  }
  return { name: l.name, fingerprint: JSON.stringify(l), planned, ...(drain !== undefined ? { drain } : {}) };
}

function addressOf(l: ListenerConfigInput, path: string): ListenAddress {
  if (l.bind_port === false) return { kind: 'inproc', name: l.name };
  const ep = l.endpoint;
  if (ep !== undefined) return ep.kind === 'inprocess' ? { kind: 'inproc', name: ep.name } : ep;
  try {
    return parseListenAddress(l.address);
  } catch (err) {
    throw new Error(`${path}.address: ${(err as Error).message}`, { cause: err });
  }
}
