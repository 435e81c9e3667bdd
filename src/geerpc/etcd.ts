/**
 * etcd as geerpc's registry for many machines, through the etcd3 client.
 *   registerEtcd  — puts `<prefix><addr> = addr` under a lease with a TTL that etcd3 keeps alive;
 *                   if the process dies (or keepalives stop) etcd deletes the key within the TTL.
 *                   A lease reported lost is logged, counted and granted again.
 *   EtcdDiscovery — lists the prefix once, then follows it with a watch from the next revision.
 *                   When etcd is unreachable the last known hosts stay in use; the outage is logged
 *                   and counted, and the list is read again once the watch reconnects.
 */
import { Etcd3, type IKeyValue, type IOptions, type Lease, type Watcher } from 'etcd3';
import { counter } from '../common/counters.js';
import { logger } from '../common/log.js';
import { MultiServersDiscovery } from './discovery.js';
import { GeeRpcError } from './errors.js';

const log = logger('geerpc.etcd');
const outageCounter = counter('geerpc.etcd.outages');
const leaseLostCounter = counter('geerpc.etcd.leases_lost');

export const DEFAULT_ETCD_PREFIX = '/geerpc/servers/';
export const DEFAULT_LEASE_TTL_S = 10;

export interface EtcdConnection {
  /** etcd endpoints, e.g. "http://127.0.0.1:2379"; or an existing client to share. */
  hosts?: string | string[];
  client?: Etcd3;
  prefix?: string;
  /** Connect timeout for each etcd request, ms (default 5 000). */
  dialTimeoutMs?: number;
}

function clientOf(c: EtcdConnection): { client: Etcd3; owned: boolean } {
  if (c.client !== undefined) return { client: c.client, owned: false };
  if (c.hosts === undefined) throw new Error('etcd: hosts or client is required');
  const opts: IOptions = { hosts: c.hosts, dialTimeout: c.dialTimeoutMs ?? 5000 };
  return { client: new Etcd3(opts), owned: true };
}

export interface EtcdRegistration {
  readonly key: string;
  readonly stats: { leasesLost: number; grants: number };
  /** Stops keepalives without revoking (the key disappears when the TTL runs out) and closes an owned client. */
  release(): void;
  /** Revokes the lease (the key goes at once) and closes an owned client. */
  stop(): Promise<void>;
}

export async function registerEtcd(addr: string, opts: EtcdConnection & { ttlSeconds?: number }): Promise<EtcdRegistration> {
  const { client, owned } = clientOf(opts);
  const key = `${opts.prefix ?? DEFAULT_ETCD_PREFIX}${addr}`;
  const ttl = opts.ttlSeconds ?? DEFAULT_LEASE_TTL_S;
  const stats = { leasesLost: 0, grants: 0 };
  let lease: Lease;
  let stopped = false;
  const grant = async (): Promise<void> => {
    lease = client.lease(ttl);
    lease.on('lost', (err) => {
      if (stopped) return;
      stats.leasesLost++;
      leaseLostCounter.inc();
      log.warn(`lease for ${key} lost, granting a new one`, err.message);
      grant().catch((e: unknown) => log.error(`cannot re-register ${key}`, (e as Error).message));
    });
    await lease.put(key).value(addr);
    stats.grants++;
  };
  await grant();
  return {
    key,
    stats,
    release: () => {
      stopped = true;
      lease.release();
      if (owned) client.close();
    },
    stop: async () => {
      stopped = true;
      await lease.revoke().catch((err: unknown) => log.warn(`cannot revoke the lease of ${key}`, (err as Error).message));
      if (owned) client.close();
    },
  };
}

export class EtcdDiscovery extends MultiServersDiscovery {
  readonly prefix: string;
  readonly stats = { outages: 0, events: 0, resyncs: 0 };
  readonly #client: Etcd3;
  readonly #owned: boolean;
  readonly #hosts = new Map<string, string>();
  #watcher: Watcher | undefined;
  #starting: Promise<void> | undefined;
  #down = false;
  #closed = false;

  readonly #onChange: ((servers: readonly string[]) => void) | undefined;
  readonly #onOutage: ((reason: string) => void) | undefined;
  #published = '';

  /**
   * `onChange` hears every new list (after a listing or a watch event) and `onOutage` each time the
   * watch loses etcd, for callers that follow the list rather than poll it.
   */
  constructor(opts: EtcdConnection & { onChange?: (servers: readonly string[]) => void; onOutage?: (reason: string) => void }) {
    super([]);
    const { client, owned } = clientOf(opts);
    this.#client = client;
    this.#owned = owned;
    this.prefix = opts.prefix ?? DEFAULT_ETCD_PREFIX;
    this.#onChange = opts.onChange;
    this.#onOutage = opts.onOutage;
  }

  /** etcd is unreachable right now (the last known hosts are in use). */
  get down(): boolean {
    return this.#down;
  }

  /** Starts (once) the list + watch; when etcd was never reached, each call tries again. */
  override refresh(): Promise<void> {
    if (this.#watcher !== undefined) return Promise.resolve();
    this.#starting ??= this.#start().catch((err: unknown) => {
      this.#starting = undefined;
      if (this.servers.length > 0) return;
      throw new GeeRpcError('NO_SERVERS', `rpc discovery: etcd unavailable and no hosts known: ${(err as Error).message}`, err);
    });
    return this.#starting;
  }

  override update(servers: string[]): void {
    this.#hosts.clear();
    for (const s of servers) this.#hosts.set(`${this.prefix}${s}`, s);
    this.#publish();
  }

  /** Stops watching and closes an owned client; does not wait more than a second for an unreachable etcd. */
  async close(): Promise<void> {
    this.#closed = true;
    const cancel = this.#watcher?.cancel().catch(() => {});
    await Promise.race([cancel, new Promise((r) => setTimeout(r, 1000).unref())]);
    if (this.#owned) this.#client.close();
  }

  async #start(): Promise<void> {
    const revision = await this.#resync();
    const watcher = await this.#client.watch().prefix(this.prefix).startRevision(String(BigInt(revision) + 1n)).create();
    if (this.#closed) {
      await watcher.cancel();
      return;
    }
    watcher.on('put', (kv: IKeyValue) => {
      this.stats.events++;
      this.#hosts.set(kv.key.toString(), kv.value.toString());
      this.#publish();
    });
    watcher.on('delete', (kv: IKeyValue) => {
      this.stats.events++;
      this.#hosts.delete(kv.key.toString());
      this.#publish();
    });
    watcher.on('disconnected', (err) => this.#outage(err.message));
    // A watcher that errors is finished: the next refresh lists and watches afresh.
    watcher.on('error', (err) => {
      this.#outage(err.message);
      if (this.#watcher === watcher) {
        this.#watcher = undefined;
        this.#starting = undefined;
      }
    });
    watcher.on('connected', () => {
      if (!this.#down) return;
      this.#down = false;
      log.info(`etcd watch on ${this.prefix} reconnected; reading the list again`);
      this.#resync().catch((err: unknown) => this.#outage((err as Error).message));
    });
    this.#watcher = watcher;
  }

  #outage(reason: string): void {
    if (this.#closed || this.#down) return;
    this.#down = true;
    this.stats.outages++;
    outageCounter.inc();
    log.warn(`etcd unreachable (${reason}); keeping the ${this.servers.length} last known hosts of ${this.prefix}`);
    this.#onOutage?.(reason);
  }

  /** Reads the whole prefix; returns the revision it was read at. */
  async #resync(): Promise<string> {
    const res = await this.#client.getAll().prefix(this.prefix).exec();
    this.stats.resyncs++;
    this.#hosts.clear();
    for (const kv of res.kvs) this.#hosts.set(kv.key.toString(), kv.value.toString());
    this.#publish();
    return String(res.header.revision);
  }

  #publish(): void {
    this.servers = [...new Set(this.#hosts.values())].sort();
    const key = this.servers.join(',');
    if (key === this.#published) return;
    this.#published = key;
    this.#onChange?.(this.servers);
  }
}
