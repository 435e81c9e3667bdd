import { test } from 'node:test';
import { assertIssue, baseConfig, configIssues, parse } from '../config/helpers.js';
import { routerConfigs } from '../fixtures/config-shapes.js';
import assert from 'node:assert/strict';
import { Routers } from '../../src/router/router.js';
import type { RouteInput } from '../fixtures/config-shapes.js';
import { req } from './fixtures.js';

function router(routes: RouteInput[]): Routers {
  return new Routers(routerConfigs([{ router_config_name: 'r', virtual_hosts: [{ name: 'vh', domains: ['*'], routers: routes }] }]));
}

function clusterFor(r: Routers, path: string, headers: Record<string, string> = {}, method = 'GET'): string | undefined | null {
  const m = r.match('r', req('svc.test', path, headers, method));
  return m === null ? null : m.clusterName;
}

test('routes are tried in config order and the first match wins', () => {
  const r = router([
    { match: { prefix: '/api/v1' }, route: { cluster_name: 'v1' } },
    { match: { prefix: '/api' }, route: { cluster_name: 'api' } },
    { match: { prefix: '/' }, route: { cluster_name: 'root' } },
  ]);
  assert.equal(clusterFor(r, '/api/v1/users'), 'v1');
  assert.equal(clusterFor(r, '/api/v2'), 'api');
  assert.equal(clusterFor(r, '/other'), 'root');
});

test('a prefix rule compares the raw path; a path rule ignores the query but needs the whole path', () => {
  const r = router([
    { match: { path: '/exact' }, route: { cluster_name: 'exact' } },
    { match: { prefix: '/pre' }, route: { cluster_name: 'prefix' } },
  ]);
  assert.equal(clusterFor(r, '/exact'), 'exact');
  assert.equal(clusterFor(r, '/exact?x=1'), 'exact');
  assert.equal(clusterFor(r, '/exactly'), null);
  assert.equal(clusterFor(r, '/exact/'), null);
  assert.equal(clusterFor(r, '/prefix-and-more?q'), 'prefix');
});

test('a regex rule must match the whole query-less path', () => {
  const r = router([{ match: { regex: '/users/[0-9]+' }, route: { cluster_name: 'users' } }]);
  assert.equal(clusterFor(r, '/users/42'), 'users');
  assert.equal(clusterFor(r, '/users/42?full=1'), 'users');
  assert.equal(clusterFor(r, '/users/42/posts'), null, 'anchored at the end');
  assert.equal(clusterFor(r, '/v2/users/42'), null, 'anchored at the start');
  assert.equal(clusterFor(r, '/users/abc'), null);
});

test('header matchers compare exact values or full regexes, and every one must match', () => {
  const r = router([
    {
      match: { prefix: '/', headers: [{ name: 'X-Env', value: 'canary' }, { name: 'x-user', value: 'u[0-9]{2}', regex: true }] },
      route: { cluster_name: 'canary' },
    },
    { match: { prefix: '/', headers: [{ name: ':method', value: 'POST' }] }, route: { cluster_name: 'writes' } },
    { match: { prefix: '/' }, route: { cluster_name: 'default' } },
  ]);
  assert.equal(clusterFor(r, '/', { 'x-env': 'canary', 'x-user': 'u42' }), 'canary');
  assert.equal(clusterFor(r, '/', { 'x-env': 'canary', 'x-user': 'u421' }), 'default', 'regex is anchored');
  assert.equal(clusterFor(r, '/', { 'x-env': 'canary' }), 'default', 'a missing header does not match');
  assert.equal(clusterFor(r, '/', { 'x-env': 'Canary', 'x-user': 'u42' }), 'default', 'exact values are case-sensitive');
  assert.equal(clusterFor(r, '/', {}, 'POST'), 'writes', ':method reads the request method');
});

test("a header-only match (Layotto's http example) accepts any path", () => {
  const r = router([
    { match: { headers: [{ name: 'id', value: 'HelloService:1.0' }] }, route: { cluster_name: 'http_server' } },
  ]);
  assert.equal(clusterFor(r, '/any/path?x', { id: 'HelloService:1.0' }), 'http_server');
  assert.equal(clusterFor(r, '/any/path', { id: 'HelloService:2.0' }), null);
});

test('weighted clusters are picked in proportion to their weights', () => {
  const r = new Routers(
    routerConfigs([
      {
        router_config_name: 'r',
        virtual_hosts: [
          {
            name: 'vh',
            domains: ['*'],
            routers: [
              {
                match: { prefix: '/' },
                route: {
                  weighted_clusters: [
                    { cluster: { name: 'a', weight: 70 } },
                    { cluster: { name: 'b', weight: 20 } },
                    { cluster: { name: 'c', weight: 10 } },
                  ],
                },
              },
            ],
          },
        ],
      },
    ]),
  );
  const counts = new Map<string, number>();
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const c = clusterFor(r, '/')!;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  for (const [name, share] of [['a', 0.7], ['b', 0.2], ['c', 0.1]] as const) {
    const got = (counts.get(name) ?? 0) / n;
    assert.ok(Math.abs(got - share) < 0.02, `${name}: ${got} vs ${share}`);
  }
});

test('weighted clusters follow the injected random source at the weight boundaries', () => {
  const values = [0, 0.69, 0.7, 0.89, 0.9, 0.999999];
  let i = 0;
  const r = new Routers(
    routerConfigs([
      {
        router_config_name: 'r',
        virtual_hosts: [
          {
            name: 'vh',
            domains: ['*'],
            routers: [
              {
                match: { prefix: '/' },
                route: {
                  weighted_clusters: [
                    { cluster: { name: 'a', weight: 70 } },
                    { cluster: { name: 'b', weight: 20 } },
                    { cluster: { name: 'c', weight: 10 } },
                  ],
                },
              },
            ],
          },
        ],
      },
    ]),
    { random: () => values[i++]! },
  );
  assert.deepEqual(
    values.map(() => clusterFor(r, '/')),
    ['a', 'a', 'b', 'b', 'c', 'c'],
  );
});

test('a fixed-cluster route returns one shared match object: matching allocates nothing', () => {
  const r = router([{ match: { prefix: '/' }, route: { cluster_name: 'x' } }]);
  assert.equal(r.match('r', req('a', '/1')), r.match('r', req('b', '/2')));
});

test('a direct response route carries its status and body and no cluster', () => {
  const r = router([
    { match: { path: '/health' }, direct_response: { status: 200, body: 'ok' } },
    { match: { prefix: '/' }, route: { cluster_name: 'x' } },
  ]);
  const m = r.match('r', req('a', '/health'))!;
  assert.equal(m.clusterName, undefined);
  assert.deepEqual(m.route.action, { kind: 'direct_response', status: 200, body: 'ok' });
});

test('prefix_rewrite replaces the matched prefix and keeps the rest and the query', () => {
  const r = router([
    { match: { prefix: '/old/' }, route: { cluster_name: 'x', prefix_rewrite: '/new/' } },
    { match: { path: '/exact' }, route: { cluster_name: 'x', prefix_rewrite: '/renamed' } },
    { match: { prefix: '/' }, route: { cluster_name: 'x' } },
  ]);
  const rewrite = (p: string): string => r.match('r', req('a', p))!.route.rewritePath(p);
  assert.equal(rewrite('/old/a/b?q=1'), '/new/a/b?q=1');
  assert.equal(rewrite('/exact?z'), '/renamed?z');
  const plain = '/untouched';
  assert.equal(rewrite(plain), plain);
});

test('timeout and retry policy are compiled from MOSN and Envoy forms', () => {
  const r = router([
    { match: { prefix: '/a' }, route: { cluster_name: 'x', timeout: 1500, retry_policy: { retry_on: true, num_retries: 2, retry_timeout: 300 } } },
    { match: { prefix: '/b' }, route: { cluster_name: 'x', retry_policy: { retry_on: 'gateway-error, connect-failure' } } },
    { match: { prefix: '/' }, route: { cluster_name: 'x' } },
  ]);
  const a = r.match('r', req('h', '/a'))!.route;
  assert.equal(a.timeoutMs, 1500);
  assert.deepEqual(a.retryPolicy, {
    numRetries: 2,
    perTryTimeoutMs: 300,
    onConnectFailure: true,
    onReset: true,
    on5xx: true,
    onGatewayError: true,
    grpcCodes: new Set(),
  });
  const b = r.match('r', req('h', '/b'))!.route.retryPolicy!;
  assert.equal(b.numRetries, 1);
  assert.equal(b.onConnectFailure, true);
  assert.equal(b.onReset, false);
  assert.equal(b.on5xx, false);
  assert.equal(b.onGatewayError, true);
  const c = r.match('r', req('h', '/c'))!.route;
  assert.equal(c.timeoutMs, 0);
  assert.equal(c.retryPolicy, undefined);
});

test('bad route config fails at load with the JSON path and the reason', () => {
  const issues = (route: unknown) => {
    const cfg = baseConfig();
    (cfg.servers[0]!.routers[0]!.virtual_hosts[0]! as { routers: unknown[] }).routers = [route];
    return configIssues(() => parse(cfg));
  };
  const at = 'servers[0].routers[0].virtual_hosts[0].routers[0]';
  assertIssue(issues({ match: { regex: '([a-z' }, route: { cluster_name: 'c1' } }), `${at}.match.regex`, /invalid regular expression/);
  assertIssue(issues({ match: { prefix: '/', path: '/' }, route: { cluster_name: 'c1' } }), `${at}.match`, /use only one of prefix, path, regex/);
  assertIssue(issues({ match: { prefix: '/' } }), at, /exactly one of route, direct_response/);
  assertIssue(issues({ match: { prefix: '/' }, route: { cluster_name: 'c1', retry_policy: { retry_on: 'sometimes' } } }), `${at}.route.retry_policy.retry_on`, /unknown retry condition "sometimes"/);
  assertIssue(issues({ match: { prefix: '/' }, route: { weighted_clusters: [{ cluster: { name: 'c1', weight: 0 } }] } }), `${at}.route.weighted_clusters`, /add up to 0/);
});
