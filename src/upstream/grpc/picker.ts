/**
 * The picker of a GrpcChannel (seed 002's balancer + picker): for every call, which subchannel —
 * and through it which HTTP/2 connection — carries it. Two kinds:
 *
 * - StaticPicker: fixed targets (a `listener` address), round robin over the READY subchannels that
 *   have a free stream slot.
 * - ClusterPicker: the hosts of a cluster of the worker's cluster manager, each call picked by the
 *   balancer registered under the cluster's lb_type (src/upstream/load-balancers.ts), over the hosts
 *   that are healthy and whose subchannel can take the call: READY for most balancers, anything but
 *   TRANSIENT_FAILURE for the consistent-hash ones (LB_RING_HASH, LB_MAGLEV), so a key keeps its host
 *   while that host connects, and moves to the next host of the ring only while its own is failing —
 *   as gRPC's ring_hash picker does. The hash key is the call's first present metadata value among
 *   the configured names. The cluster is looked up on every pick, so reloads and EDS take effect;
 *   subchannels follow its host list.
 *
 * Either way a call that finds nothing pickable waits (the picker starts the connections it needs)
 * and fails fast with UNAVAILABLE once every candidate is in TRANSIENT_FAILURE — gRPC's behaviour for
 * calls without wait-for-ready; the call's deadline bounds the wait.
 */
import { RingsideError } from '../../common/errors.js';
import { SubchannelState, type GrpcClusterTargets } from '../../types/grpc.js';
import type { Cluster, Host, HostSet, LoadBalancer, LoadBalancerContext } from '../../types/upstream.js';
import { LB_MAGLEV, LB_RING_HASH } from '../load-balancers.js';
import type { GrpcSession } from './session.js';
import type { Subchannel } from './subchannel.js';

/** What a call carries that a balancer may read. */
export interface PickInput {
  /** Request metadata as a flat [name, value, …] list, names lower case. */
  readonly metadata: readonly string[];
}

export type PickResult =
  | { readonly kind: 'go'; readonly session: GrpcSession; readonly host: Host | undefined }
  | { readonly kind: 'wait' }
  | { readonly kind: 'fail'; readonly error: RingsideError };

const WAIT: PickResult = { kind: 'wait' };

export interface SubchannelPicker {
  pick(call: PickInput): PickResult;
  /** Every subchannel now (stats, close). */
  subchannels(): readonly Subchannel[];
  /** A subchannel changed state, or a stream slot opened. */
  changed(sub: Subchannel): void;
}

/** Makes the subchannel of one target; the channel wires its events. */
export type SubchannelMaker = (target: string) => Subchannel;

function unreachable(reason: string): RingsideError {
  return new RingsideError('CONNECT_FAILED', 'upstream', `no target of the gRPC channel is reachable: ${reason}`, { retryable: true });
}

export class StaticPicker implements SubchannelPicker {
  readonly #subs: Subchannel[];
  #next = 0;

  constructor(targets: readonly string[], make: SubchannelMaker) {
    this.#subs = targets.map(make);
  }

  subchannels(): readonly Subchannel[] {
    return this.#subs;
  }

  changed(): void {}

  pick(): PickResult {
    const subs = this.#subs;
    const n = subs.length;
    for (let i = 0; i < n; i++) {
      const sub = subs[(this.#next + i) % n]!;
      if (sub.state !== SubchannelState.Ready) continue;
      const session = sub.pick();
      if (session !== undefined) {
        this.#next = (this.#next + i + 1) % n;
        return { kind: 'go', session, host: undefined };
      }
    }
    return connectOrFail(subs);
  }
}

/** Nothing could take the call: get every idle subchannel connecting; fail when all are failing. */
function connectOrFail(subs: readonly Subchannel[]): PickResult {
  let failing = 0;
  let reason = '';
  for (const sub of subs) {
    if (sub.state === SubchannelState.TransientFailure) {
      failing++;
      reason = sub.lastError;
    }
    if (sub.state !== SubchannelState.Ready) sub.requestConnection();
  }
  return failing === subs.length ? { kind: 'fail', error: unreachable(reason) } : WAIT;
}

export class ClusterPicker implements SubchannelPicker {
  readonly #targets: GrpcClusterTargets;
  readonly #make: SubchannelMaker;
  /** By host address. */
  readonly #subs = new Map<string, Subchannel>();
  /** Each subchannel's state the last time the candidate list was built. */
  readonly #seen = new Map<Subchannel, SubchannelState>();
  #cluster: Cluster | undefined;
  #hosts: readonly Host[] = [];
  #lb: LoadBalancer | undefined;
  #hash = false;
  /** The candidates the balancer sees as healthyHosts; a new array only when they change. */
  #candidates: readonly Host[] = [];
  #candidatesOf: readonly Host[] | null = null;
  #stale = true;
  readonly #view: HostSet;

  constructor(targets: GrpcClusterTargets, make: SubchannelMaker) {
    this.#targets = targets;
    this.#make = make;
    const self = this;
    this.#view = {
      get hosts() {
        return self.#hosts;
      },
      get healthyHosts() {
        return self.#candidateHosts();
      },
    };
  }

  subchannels(): readonly Subchannel[] {
    return [...this.#subs.values()];
  }

  changed(sub: Subchannel): void {
    // Stream slots open on every finished call; only a state change alters the candidates.
    if (this.#seen.get(sub) !== sub.state) this.#stale = true;
    // gRPC's round_robin reconnects a subchannel that went IDLE (its connection was lost, or its
    // backoff passed) so it rejoins the rotation; a consistent-hash key reconnects its own on demand.
    if (!this.#hash && sub.state === SubchannelState.Idle && this.#subs.get(sub.target) === sub) queueMicrotask(() => sub.requestConnection());
  }

  pick(call: PickInput): PickResult {
    const cluster = this.#refresh();
    if (cluster === undefined) return { kind: 'fail', error: new RingsideError('NO_HEALTHY_HOST', 'upstream', `no cluster named "${this.#targets.cluster}"`) };
    if (this.#lb === undefined) return { kind: 'fail', error: new RingsideError('INTERNAL', 'internal', `no load balancer "${cluster.lbType}" in this build`) };
    const healthy = cluster.hostSet.healthyHosts;
    if (healthy.length === 0) return { kind: 'fail', error: new RingsideError('NO_HEALTHY_HOST', 'upstream', `cluster "${cluster.name}" has no healthy host`, { retryable: true }) };
    const host = this.#lb.chooseHost(this.#context(call.metadata));
    const sub = host === undefined ? undefined : this.#subs.get(host.address);
    if (sub !== undefined) {
      if (sub.state === SubchannelState.Ready) {
        const session = sub.pick(); // undefined: every connection is full and another is being dialed
        if (session !== undefined) return { kind: 'go', session, host };
        return WAIT;
      }
      if (this.#hash) {
        // The key's own host is connecting (or idle): wait for it rather than move the key.
        sub.requestConnection();
        return WAIT;
      }
    }
    const candidates: Subchannel[] = [];
    for (const h of healthy) {
      const s = this.#subs.get(h.address);
      if (s !== undefined) candidates.push(s);
    }
    return connectOrFail(candidates);
  }

  #context(metadata: readonly string[]): LoadBalancerContext {
    const header = (name: string): string | undefined => {
      for (let i = 0; i < metadata.length; i += 2) if (metadata[i] === name) return metadata[i + 1];
      return undefined;
    };
    let hashKey: string | undefined;
    for (const name of this.#targets.hashHeaders) {
      hashKey = header(name);
      if (hashKey !== undefined) break;
    }
    return { hashKey, header };
  }

  /** The cluster now; rebuilds the balancer when the cluster was replaced, subchannels when its hosts changed. */
  #refresh(): Cluster | undefined {
    const cluster = this.#targets.source.cluster(this.#targets.cluster);
    if (cluster === undefined) return undefined;
    if (cluster !== this.#cluster) {
      this.#cluster = cluster;
      this.#hash = cluster.lbType === LB_RING_HASH || cluster.lbType === LB_MAGLEV;
      this.#lb = this.#targets.source.loadBalancer(cluster.lbType)?.create(this.#view, { random: Math.random });
      this.#stale = true;
    }
    const hosts = cluster.hostSet.hosts;
    if (hosts !== this.#hosts) {
      this.#hosts = hosts;
      const wanted = new Set(hosts.map((h) => h.address));
      for (const [address, sub] of this.#subs) {
        if (wanted.has(address)) continue;
        this.#subs.delete(address);
        this.#seen.delete(sub);
        sub.close();
      }
      for (const address of wanted) if (!this.#subs.has(address)) this.#subs.set(address, this.#make(address));
      this.#stale = true;
    }
    return cluster;
  }

  /** Healthy hosts whose subchannel may take a call now (READY; for hash balancers, not failing). */
  #candidateHosts(): readonly Host[] {
    const healthy = this.#cluster?.hostSet.healthyHosts ?? [];
    if (!this.#stale && healthy === this.#candidatesOf) return this.#candidates;
    this.#stale = false;
    this.#candidatesOf = healthy;
    for (const sub of this.#subs.values()) this.#seen.set(sub, sub.state);
    const next = healthy.filter((h) => {
      const state = this.#subs.get(h.address)?.state;
      if (state === undefined) return false;
      return this.#hash ? state !== SubchannelState.TransientFailure : state === SubchannelState.Ready;
    });
    // The same hosts keep the same array: balancers rebuild their tables (rings, weights) per array.
    const prev = this.#candidates;
    if (next.length !== prev.length || next.some((h, i) => h !== prev[i])) this.#candidates = next;
    return this.#candidates;
  }
}
