/**
 * The built-in load balancers, by MOSN lb_type name. Each is a pure chooseHost over the cluster's
 * healthy hosts: no I/O, no timers, reading only host weights and live stats. Balancers with state
 * (round robin positions, smooth weights) key it to the healthy array's identity, which changes
 * whenever a health check ejects or restores a host.
 */
import type { Registry } from '../common/registry.js';
import type { Host, HostSet, LoadBalancer, LoadBalancerContext, LoadBalancerFactory } from '../types/upstream.js';
import { maglev, ringHash } from './hash-balancers.js';

export const LB_RANDOM = 'LB_RANDOM';
export const LB_ROUNDROBIN = 'LB_ROUNDROBIN';
export const LB_WEIGHTED_ROUNDROBIN = 'LB_WEIGHTED_ROUNDROBIN';
export const LB_LEAST_REQUEST = 'LB_LEAST_REQUEST';
export const LB_LEAST_CONNECTION = 'LB_LEAST_CONNECTION';
export const LB_MAGLEV = 'LB_MAGLEV';
export const LB_RING_HASH = 'LB_RING_HASH';

function randomIndex(random: () => number, n: number): number {
  const i = Math.floor(random() * n);
  return i < n ? i : n - 1; // a random() of exactly 1 from a test stub must not run off the end
}

class RandomLb implements LoadBalancer {
  readonly #set: HostSet;
  readonly #random: () => number;
  constructor(set: HostSet, random: () => number) {
    this.#set = set;
    this.#random = random;
  }
  chooseHost(_ctx: LoadBalancerContext | undefined): Host | undefined {
    const hosts = this.#set.healthyHosts;
    if (hosts.length === 0) return undefined;
    return hosts[randomIndex(this.#random, hosts.length)];
  }
}

class RoundRobinLb implements LoadBalancer {
  readonly #set: HostSet;
  #next: number;
  constructor(set: HostSet, random: () => number) {
    this.#set = set;
    // Workers start at different places so N workers do not all hit host 0 first.
    this.#next = randomIndex(random, Math.max(1, set.hosts.length));
  }
  chooseHost(_ctx: LoadBalancerContext | undefined): Host | undefined {
    const hosts = this.#set.healthyHosts;
    if (hosts.length === 0) return undefined;
    if (this.#next >= hosts.length) this.#next = 0;
    return hosts[this.#next++];
  }
}

/**
 * Smooth weighted round robin (nginx): each pick adds every host's weight to its running score,
 * takes the highest score and subtracts the total from it. Weights 5,1,1 give a a b a c a a — the
 * heavy host's turns spread out instead of coming in a burst.
 */
class WeightedRoundRobinLb implements LoadBalancer {
  readonly #set: HostSet;
  #hosts: readonly Host[] = [];
  #current: number[] = [];
  #total = 0;
  constructor(set: HostSet) {
    this.#set = set;
  }
  chooseHost(_ctx: LoadBalancerContext | undefined): Host | undefined {
    const hosts = this.#set.healthyHosts;
    if (hosts.length === 0) return undefined;
    if (hosts !== this.#hosts) {
      this.#hosts = hosts;
      this.#current = new Array<number>(hosts.length).fill(0);
      this.#total = hosts.reduce((s, h) => s + h.weight, 0);
    }
    const cur = this.#current;
    let best = 0;
    for (let i = 0; i < hosts.length; i++) {
      cur[i]! += hosts[i]!.weight;
      if (cur[i]! > cur[best]!) best = i;
    }
    cur[best]! -= this.#total;
    return hosts[best];
  }
}

/**
 * Power of two choices: two distinct random hosts, keep the less loaded. Load is the live count
 * divided by weight, so a weight-2 host is expected to carry twice the requests of a weight-1 host.
 * Two choices avoid both the herd effect of "global least" across workers and a full scan.
 */
class TwoChoicesLb implements LoadBalancer {
  readonly #set: HostSet;
  readonly #random: () => number;
  readonly #load: (h: Host) => number;
  constructor(set: HostSet, random: () => number, load: (h: Host) => number) {
    this.#set = set;
    this.#random = random;
    this.#load = load;
  }
  chooseHost(_ctx: LoadBalancerContext | undefined): Host | undefined {
    const hosts = this.#set.healthyHosts;
    const n = hosts.length;
    if (n === 0) return undefined;
    if (n === 1) return hosts[0];
    const i = randomIndex(this.#random, n);
    let j = randomIndex(this.#random, n - 1);
    if (j >= i) j++;
    const a = hosts[i]!;
    const b = hosts[j]!;
    // Cross-multiplied to compare (load+1)/weight without division.
    return (this.#load(a) + 1) * b.weight <= (this.#load(b) + 1) * a.weight ? a : b;
  }
}

const activeRequests = (h: Host): number => h.stats.activeRequests;
const activeConnections = (h: Host): number => h.stats.activeConnections;

/** Called once at the composition root with the worker's load balancer registry. */
export function registerBuiltinLoadBalancers(registry: Registry<LoadBalancerFactory>): void {
  registry.register(LB_RANDOM, { create: (set, o) => new RandomLb(set, o.random) });
  registry.register(LB_ROUNDROBIN, { create: (set, o) => new RoundRobinLb(set, o.random) });
  registry.register(LB_WEIGHTED_ROUNDROBIN, { create: (set) => new WeightedRoundRobinLb(set) });
  registry.register(LB_LEAST_REQUEST, { create: (set, o) => new TwoChoicesLb(set, o.random, activeRequests) });
  registry.register(LB_LEAST_CONNECTION, { create: (set, o) => new TwoChoicesLb(set, o.random, activeConnections) });
  registry.register(LB_MAGLEV, { create: (set, o) => maglev(set, o.random) });
  registry.register(LB_RING_HASH, { create: (set, o) => ringHash(set, o.random) });
}
