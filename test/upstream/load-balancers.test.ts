import { test } from 'node:test';
import { host as hostConfig } from '../fixtures/config-shapes.js';
import assert from 'node:assert/strict';
import { Registry } from '../../src/common/registry.js';
import { MutableHostSet, UpstreamHost } from '../../src/upstream/host.js';
import { registerBuiltinLoadBalancers } from '../../src/upstream/load-balancers.js';
import type { Host, LoadBalancer, LoadBalancerFactory } from '../../src/types/upstream.js';

function lbs(): Registry<LoadBalancerFactory> {
  const r = new Registry<LoadBalancerFactory>('load balancer');
  registerBuiltinLoadBalancers(r);
  return r;
}

function hosts(weights: number[]): { set: MutableHostSet; hosts: UpstreamHost[] } {
  const hs = weights.map((w, i) => new UpstreamHost('c', hostConfig({ address: `10.0.0.${i + 1}:80`, hostname: String.fromCharCode(97 + i), weight: w }), `hosts[${i}]`));
  return { set: new MutableHostSet(hs), hosts: hs };
}

function picks(lb: LoadBalancer, n: number): string[] {
  return Array.from({ length: n }, () => lb.chooseHost(undefined)?.hostname ?? '-');
}

function counts(names: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of names) c[n] = (c[n] ?? 0) + 1;
  return c;
}

test('the registry holds every MOSN balancer name and refuses a second registration', () => {
  const r = lbs();
  assert.deepEqual(r.names().sort(), ['LB_LEAST_CONNECTION', 'LB_LEAST_REQUEST', 'LB_MAGLEV', 'LB_RANDOM', 'LB_RING_HASH', 'LB_ROUNDROBIN', 'LB_WEIGHTED_ROUNDROBIN']);
  assert.throws(() => registerBuiltinLoadBalancers(r), /already registered/);
});

test('smooth weighted round robin spreads a heavy host out: 5,1,1 gives a a b a c a a', () => {
  const { set } = hosts([5, 1, 1]);
  const lb = lbs().require('LB_WEIGHTED_ROUNDROBIN').create(set, { random: Math.random });
  assert.deepEqual(picks(lb, 14), ['a', 'a', 'b', 'a', 'c', 'a', 'a', 'a', 'a', 'b', 'a', 'c', 'a', 'a']);
});

test('round robin cycles through hosts from a random start', () => {
  const { set } = hosts([1, 1, 1]);
  const lb = lbs().require('LB_ROUNDROBIN').create(set, { random: () => 0.5 });
  assert.deepEqual(picks(lb, 6), ['b', 'c', 'a', 'b', 'c', 'a']);
});

test('random spreads picks evenly within tolerance', () => {
  const { set } = hosts([1, 1, 1, 1]);
  const lb = lbs().require('LB_RANDOM').create(set, { random: Math.random });
  const n = 40000;
  const c = counts(picks(lb, n));
  for (const name of ['a', 'b', 'c', 'd']) assert.ok(Math.abs(c[name]! / n - 0.25) < 0.02, `${name}: ${c[name]}`);
});

test('least request prefers the idle host of two', () => {
  const { set, hosts: hs } = hosts([1, 1]);
  hs[0]!.stats.activeRequests = 10;
  const lb = lbs().require('LB_LEAST_REQUEST').create(set, { random: Math.random });
  assert.deepEqual(new Set(picks(lb, 200)), new Set(['b']));
});

test('least request weighs load against weight', () => {
  const { set, hosts: hs } = hosts([4, 1]);
  // a carries 3 on weight 4 ((3+1)/4 = 1), b carries 1 on weight 1 ((1+1)/1 = 2): a is less loaded.
  hs[0]!.stats.activeRequests = 3;
  hs[1]!.stats.activeRequests = 1;
  const lb = lbs().require('LB_LEAST_REQUEST').create(set, { random: Math.random });
  assert.deepEqual(new Set(picks(lb, 100)), new Set(['a']));
});

test('least connection picks by active connections, and among many hosts never the busiest of a pair', () => {
  const { set, hosts: hs } = hosts([1, 1, 1, 1]);
  hs.forEach((h, i) => (h.stats.activeConnections = i * 10)); // a=0 … d=30
  const lb = lbs().require('LB_LEAST_CONNECTION').create(set, { random: Math.random });
  const c = counts(picks(lb, 4000));
  assert.equal(c['d'], undefined, 'd loses every pair it is in');
  assert.ok(c['a']! > c['b']! && c['b']! > c['c']!, JSON.stringify(c));
});

test('unhealthy hosts are never picked, by any balancer', () => {
  for (const name of lbs().names()) {
    const { set, hosts: hs } = hosts([1, 3, 1]);
    const lb = lbs().require(name).create(set, { random: Math.random });
    picks(lb, 5); // warm any state before the health change
    hs[1]!.setHealthy(false);
    set.refresh();
    const seen = new Set(picks(lb, 300));
    assert.equal(seen.has('b'), false, name);
    assert.deepEqual(seen, new Set(['a', 'c']), name);
  }
});

test('no healthy host means no pick', () => {
  for (const name of lbs().names()) {
    const { set, hosts: hs } = hosts([1, 1]);
    for (const h of hs) h.setHealthy(false);
    set.refresh();
    const lb = lbs().require(name).create(set, { random: Math.random });
    assert.equal(lb.chooseHost(undefined), undefined, name);
  }
});

test('a single host is always the pick', () => {
  for (const name of lbs().names()) {
    const { set } = hosts([7]);
    const lb = lbs().require(name).create(set, { random: Math.random });
    const picked: (Host | undefined)[] = [lb.chooseHost(undefined), lb.chooseHost(undefined)];
    assert.deepEqual(picked.map((h) => h?.hostname), ['a', 'a'], name);
  }
});

for (const [name, maxMovedOthers] of [['LB_RING_HASH', 0], ['LB_MAGLEV', 0.05]] as const) {
  test(`${name}: ejecting a host moves its keys and (almost) no others; weight shifts the share`, () => {
    const { set, hosts: hs } = hosts([1, 1, 1, 1, 3]);
    const lb = lbs().require(name).create(set, { random: () => 0 });
    const keys = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
    const before = keys.map((k) => lb.chooseHost({ hashKey: k })!);
    const share = counts(before.map((h) => h.hostname));
    assert.ok(share['e']! > 1.8 * share['a']!, `weight 3 host gets clearly more keys: ${JSON.stringify(share)}`);
    hs[1]!.setHealthy(false);
    set.refresh();
    const after = keys.map((k) => lb.chooseHost({ hashKey: k })!);
    let movedOthers = 0;
    keys.forEach((_, i) => {
      assert.notEqual(after[i], hs[1], 'an ejected host gets no key');
      if (before[i] !== hs[1] && after[i] !== before[i]) movedOthers++;
    });
    assert.ok(movedOthers / keys.length <= maxMovedOthers, `${movedOthers} keys of healthy hosts moved`);
    // Same key, same host, as long as the set does not change.
    assert.equal(lb.chooseHost({ hashKey: 'user-7' }), after[7]);
  });
}
