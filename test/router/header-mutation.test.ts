import { test } from 'node:test';
import { routerConfigs } from '../fixtures/config-shapes.js';
import assert from 'node:assert/strict';
import { RingsideError } from '../../src/common/errors.js';
import { applyHeaderMutation, retryCovers } from '../../src/router/mutations.js';
import { Routers } from '../../src/router/router.js';
import type { MutableHeaders } from '../../src/types/router.js';
import { req } from './fixtures.js';

class Headers implements MutableHeaders {
  readonly map = new Map<string, string[]>();
  constructor(init: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(init)) this.map.set(k, [v]);
  }
  get(name: string): string | undefined {
    return this.map.get(name)?.[0];
  }
  set(name: string, value: string): void {
    this.map.set(name, [value]);
  }
  append(name: string, value: string): void {
    this.map.set(name, [...(this.map.get(name) ?? []), value]);
  }
  delete(name: string): void {
    this.map.delete(name);
  }
  toJSON(): Record<string, string[]> {
    return Object.fromEntries(this.map);
  }
}

const routers = new Routers(routerConfigs([
  {
    router_config_name: 'r',
    virtual_hosts: [
      {
        name: 'vh',
        domains: ['*'],
        request_headers_to_add: [{ header: { key: 'X-Owner', value: 'vhost' }, append: false }],
        request_headers_to_remove: ['x-internal'],
        response_headers_to_add: [{ header: { key: 'x-served-by', value: 'ringside' }, append: true }],
        routers: [
          {
            match: { prefix: '/' },
            route: {
              cluster_name: 'x',
              request_headers_to_add: [
                { header: { key: 'X-Owner', value: 'route' }, append: false },
                { header: { key: 'x-tag', value: 'b' }, append: true },
              ],
              request_headers_to_remove: ['Cookie'],
              response_headers_to_remove: ['server'],
            },
          },
        ],
      },
    ],
  },
]));

test('request edits apply route level first, then the virtual host, which wins a conflict', () => {
  const route = routers.match('r', req('h', '/'))!.route;
  const h = new Headers({ cookie: 'secret', 'x-internal': '1', 'x-tag': 'a', 'x-owner': 'client' });
  applyHeaderMutation(route.requestHeaders, h);
  assert.deepEqual(h.toJSON(), { 'x-tag': ['a', 'b'], 'x-owner': ['vhost'] });
});

test('response edits remove and append as configured', () => {
  const route = routers.match('r', req('h', '/'))!.route;
  const h = new Headers({ server: 'nginx', 'x-served-by': 'app' });
  applyHeaderMutation(route.responseHeaders, h);
  assert.deepEqual(h.toJSON(), { 'x-served-by': ['app', 'ringside'] });
});

test('a route without edits carries an empty mutation', () => {
  const r = new Routers(routerConfigs([
    { router_config_name: 'p', virtual_hosts: [{ name: 'v', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'x' } }] }] },
  ]));
  assert.equal(r.match('p', req('h', '/'))!.route.requestHeaders.length, 0);
});

test('retryCovers follows the compiled policy', () => {
  const policy = { numRetries: 1, perTryTimeoutMs: 0, onConnectFailure: true, onReset: false, on5xx: false, onGatewayError: true, grpcCodes: new Set<number>() };
  assert.equal(retryCovers(policy, new RingsideError('CONNECT_FAILED', 'upstream', 'x'), undefined), true);
  assert.equal(retryCovers(policy, new RingsideError('UPSTREAM_RESET', 'upstream', 'x'), undefined), false);
  assert.equal(retryCovers(policy, undefined, 503), true);
  assert.equal(retryCovers(policy, undefined, 500), false);
  assert.equal(retryCovers({ ...policy, on5xx: true }, undefined, 500), true);
  assert.equal(retryCovers(policy, undefined, 404), false);
});
