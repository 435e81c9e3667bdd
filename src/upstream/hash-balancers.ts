/**
 * Consistent-hash load balancers: a request's hash key (the route's hash_policy: a header, the
 * source IP or a cookie) picks the same host for as long as that host stays healthy, and when the
 * host set changes only the keys of the hosts that came or went move.
 *
 *   LB_MAGLEV     Maglev lookup table (65537 entries, Google's Maglev paper §3.4, weighted by
 *                 taking turns in proportion to weight): O(1) pick, minimal disruption.
 *   LB_RING_HASH  Ketama-style ring: 128 points per unit of weight on each host, binary search for
 *                 the first point at or after the key's hash. Points depend only on the host itself,
 *                 so a host leaving moves exactly its own keys.
 *
 * A request without a hash key (no hash_policy, or the header absent) gets a random healthy host,
 * as Envoy does. Tables are rebuilt when the healthy array changes identity (health transitions and
 * DNS updates), never per request.
 */
import type { Host, HostSet, LoadBalancer, LoadBalancerContext } from '../types/upstream.js';

/** 32-bit FNV-1a over the UTF-16 code units, seeded; fast enough to run per request. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32) so nearby keys ("user-1", "user-2") spread over the table.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Prime, as Maglev requires; MOSN's and Envoy's default table size. */
export const MAGLEV_TABLE_SIZE = 65537;

function randomHost(hosts: readonly Host[], random: () => number): Host {
  const i = Math.floor(random() * hosts.length);
  return hosts[i < hosts.length ? i : hosts.length - 1]!;
}

/** Fills a Maglev table for `hosts`: each entry is an index into hosts. */
export function buildMaglevTable(hosts: readonly Host[], size = MAGLEV_TABLE_SIZE): Uint16Array | Uint32Array {
  const table = hosts.length <= 0xffff ? new Uint16Array(size) : new Uint32Array(size);
  const filled = new Uint8Array(size);
  const n = hosts.length;
  const offset = new Array<number>(n);
  const skip = new Array<number>(n);
  const next = new Array<number>(n).fill(0);
  const maxWeight = hosts.reduce((m, h) => Math.max(m, h.weight), 1);
  const credit = new Array<number>(n).fill(0);
  hosts.forEach((h, i) => {
    // Keyed on the address, so every worker (and every restart) builds the same table.
    offset[i] = hash32(h.address, 0x9e3779b9) % size;
    skip[i] = (hash32(h.address, 0x7f4a7c15) % (size - 1)) + 1;
  });
  let remaining = size;
  while (remaining > 0) {
    for (let i = 0; i < n && remaining > 0; i++) {
      // A host of weight w takes a turn in w of every maxWeight rounds.
      credit[i]! += hosts[i]!.weight / maxWeight;
      if (credit[i]! < 1) continue;
      credit[i]! -= 1;
      let c = (offset[i]! + next[i]! * skip[i]!) % size;
      while (filled[c] === 1) {
        next[i]!++;
        c = (offset[i]! + next[i]! * skip[i]!) % size;
      }
      table[c] = i;
      filled[c] = 1;
      next[i]!++;
      remaining--;
    }
  }
  return table;
}

class MaglevLb implements LoadBalancer {
  readonly #set: HostSet;
  readonly #random: () => number;
  #hosts: readonly Host[] | null = null;
  #table: Uint16Array | Uint32Array = new Uint16Array(0);

  constructor(set: HostSet, random: () => number) {
    this.#set = set;
    this.#random = random;
  }

  chooseHost(ctx: LoadBalancerContext | undefined): Host | undefined {
    const hosts = this.#set.healthyHosts;
    if (hosts.length === 0) return undefined;
    const key = ctx?.hashKey;
    if (key === undefined) return randomHost(hosts, this.#random);
    if (hosts !== this.#hosts) {
      this.#hosts = hosts;
      this.#table = buildMaglevTable(hosts);
    }
    return hosts[this.#table[hash32(key) % this.#table.length]!];
  }
}

/** Points on the ring per unit of host weight (weights are 1..128). */
const POINTS_PER_WEIGHT = 128;

class RingHashLb implements LoadBalancer {
  readonly #set: HostSet;
  readonly #random: () => number;
  #hosts: readonly Host[] | null = null;
  #points = new Uint32Array(0);
  #owners = new Uint32Array(0);

  constructor(set: HostSet, random: () => number) {
    this.#set = set;
    this.#random = random;
  }

  #build(hosts: readonly Host[]): void {
    const entries: [number, number][] = [];
    hosts.forEach((h, i) => {
      const count = POINTS_PER_WEIGHT * h.weight;
      for (let r = 0; r < count; r++) entries.push([hash32(`${h.address}_${r}`), i]);
    });
    entries.sort((a, b) => a[0] - b[0]);
    this.#points = Uint32Array.from(entries, (e) => e[0]);
    this.#owners = Uint32Array.from(entries, (e) => e[1]);
  }

  chooseHost(ctx: LoadBalancerContext | undefined): Host | undefined {
    const hosts = this.#set.healthyHosts;
    if (hosts.length === 0) return undefined;
    const key = ctx?.hashKey;
    if (key === undefined) return randomHost(hosts, this.#random);
    if (hosts !== this.#hosts) {
      this.#hosts = hosts;
      this.#build(hosts);
    }
    const h = hash32(key);
    const points = this.#points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return hosts[this.#owners[lo === points.length ? 0 : lo]!];
  }
}

export function maglev(set: HostSet, random: () => number): LoadBalancer {
  return new MaglevLb(set, random);
}

export function ringHash(set: HostSet, random: () => number): LoadBalancer {
  return new RingHashLb(set, random);
}
