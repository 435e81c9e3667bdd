/**
 * Where an XClient finds servers. Every discovery answers get(mode) and getAll(); the select modes
 * are Go's: RandomSelect and RoundRobinSelect.
 *   MultiServersDiscovery — a fixed list the caller may update();
 *   GeeRegistryDiscovery  — the list from a GeeRegistry, fetched again when older than refreshMs
 *                           (10 s by default);
 *   EtcdDiscovery (etcd.ts) — a prefix watched in etcd.
 */
import { logger } from '../common/log.js';
import { GeeRpcError } from './errors.js';

const log = logger('geerpc.discovery');

export const SelectMode = { RandomSelect: 0, RoundRobinSelect: 1 } as const;
export type SelectMode = (typeof SelectMode)[keyof typeof SelectMode];

export interface Discovery {
  /** Brings the list up to date from its source (no-op for a fixed list). */
  refresh(): Promise<void>;
  /** Replaces the list by hand. */
  update(servers: string[]): void;
  get(mode: SelectMode): Promise<string>;
  getAll(): Promise<string[]>;
  close?(): Promise<void>;
}

export class MultiServersDiscovery implements Discovery {
  protected servers: string[];
  #index = 0;

  constructor(servers: string[] = []) {
    this.servers = [...servers];
  }

  async refresh(): Promise<void> {}

  update(servers: string[]): void {
    this.servers = [...servers];
  }

  async get(mode: SelectMode): Promise<string> {
    await this.refresh();
    return this.pick(mode);
  }

  async getAll(): Promise<string[]> {
    await this.refresh();
    return [...this.servers];
  }

  protected pick(mode: SelectMode): string {
    const n = this.servers.length;
    if (n === 0) throw new GeeRpcError('NO_SERVERS', 'rpc discovery: no available servers');
    switch (mode) {
      case SelectMode.RandomSelect:
        return this.servers[Math.floor(Math.random() * n)]!;
      case SelectMode.RoundRobinSelect: {
        const s = this.servers[this.#index % n]!;
        this.#index = (this.#index + 1) % n;
        return s;
      }
      default:
        throw new GeeRpcError('NO_SERVERS', 'rpc discovery: not supported select mode');
    }
  }
}

export const DEFAULT_REFRESH_MS = 10_000;

export class GeeRegistryDiscovery extends MultiServersDiscovery {
  #lastUpdate = -Infinity;
  #inflight: Promise<void> | undefined;

  constructor(
    readonly registryUrl: string,
    readonly refreshMs = DEFAULT_REFRESH_MS,
  ) {
    super([]);
  }

  override update(servers: string[]): void {
    super.update(servers);
    this.#lastUpdate = Date.now();
  }

  /** Fetches the registry's list when the last one is older than refreshMs; one fetch at a time. */
  override refresh(): Promise<void> {
    if (this.#lastUpdate + this.refreshMs > Date.now()) return Promise.resolve();
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<void> {
    log.debug('rpc registry: refresh servers from registry', this.registryUrl);
    let header: string;
    try {
      const res = await fetch(this.registryUrl, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`registry answered ${res.status}`);
      header = res.headers.get('x-geerpc-servers') ?? '';
    } catch (err) {
      log.warn('rpc registry refresh err:', (err as Error).message);
      throw new GeeRpcError('NO_SERVERS', `rpc registry refresh err: ${(err as Error).message}`, err);
    }
    this.servers = header.split(',').map((s) => s.trim()).filter((s) => s !== '');
    this.#lastUpdate = Date.now();
  }
}
