import { test } from 'node:test';
import { routerConfigs } from '../fixtures/config-shapes.js';
import assert from 'node:assert/strict';
import { Routers } from '../../src/router/router.js';
import type { VirtualHostInput } from '../fixtures/config-shapes.js';
import { req } from './fixtures.js';

function vhost(name: string, domains: string[]): VirtualHostInput {
  return { name, domains, routers: [{ match: { prefix: '/' }, route: { cluster_name: name } }] };
}

const routers = new Routers(routerConfigs([
  {
    router_config_name: 'r',
    virtual_hosts: [
      vhost('any', ['*']),
      vhost('suffix-short', ['*.com']),
      vhost('suffix-long', ['*.example.com']),
      vhost('prefix', ['api.*']),
      vhost('exact', ['www.example.com', 'Mixed.Case.ORG']),
      vhost('with-port', ['ported.test:8080']),
    ],
  },
]));

function hostOf(authority: string): string | undefined {
  return routers.match('r', req(authority, '/'))?.route.virtualHostName;
}

test('an exact domain beats every wildcard that also matches', () => {
  assert.equal(hostOf('www.example.com'), 'exact');
});

test('the longest suffix wildcard wins over a shorter one', () => {
  assert.equal(hostOf('shop.example.com'), 'suffix-long');
  assert.equal(hostOf('other.com'), 'suffix-short');
});

test('suffix wildcards beat prefix wildcards, prefix wildcards beat "*"', () => {
  assert.equal(hostOf('api.example.com'), 'suffix-long');
  assert.equal(hostOf('api.internal'), 'prefix');
  assert.equal(hostOf('unknown.internal'), 'any');
});

test('the port is stripped before matching unless a domain names it', () => {
  assert.equal(hostOf('www.example.com:8443'), 'exact');
  assert.equal(hostOf('shop.example.com:80'), 'suffix-long');
  assert.equal(hostOf('ported.test:8080'), 'with-port');
  assert.equal(hostOf('ported.test:9090'), 'any');
});

test('domains match case-insensitively', () => {
  assert.equal(hostOf('WWW.EXAMPLE.COM'), 'exact');
  assert.equal(hostOf('mixed.case.org'), 'exact');
});

test('a wildcard stands for at least one character', () => {
  // ".com" alone must not match "*.com"
  assert.equal(hostOf('.com'), 'any');
  assert.equal(hostOf('api.'), 'any');
});

test('IPv6 authorities lose only their port', () => {
  const r = new Routers(routerConfigs([
    { router_config_name: 'v6', virtual_hosts: [vhost('loopback', ['[::1]']), vhost('any', ['*'])] },
  ]));
  assert.equal(r.match('v6', req('[::1]:8080', '/'))?.route.virtualHostName, 'loopback');
  assert.equal(r.match('v6', req('[::1]', '/'))?.route.virtualHostName, 'loopback');
});

test('no virtual host and no "*" means no route', () => {
  const r = new Routers(routerConfigs([{ router_config_name: 'strict', virtual_hosts: [vhost('only', ['only.test'])] }]));
  assert.equal(r.match('strict', req('else.test', '/')), null);
  assert.equal(r.match('missing-router', req('only.test', '/')), null);
});

test('config errors name the JSON path', () => {
  assert.throws(
    () => new Routers(routerConfigs([{ router_config_name: 'x', virtual_hosts: [vhost('a', ['*']), vhost('b', ['*'])] }])),
    /routers\[0\]\.virtual_hosts\[1\]\.domains\[0\]: "\*" is already served by virtual host "a"/,
  );
  assert.throws(
    () => new Routers(routerConfigs([{ router_config_name: 'x', virtual_hosts: [vhost('a', ['a.*.b'])] }])),
    /routers\[0\]\.virtual_hosts\[0\]\.domains\[0\]/,
  );
  assert.throws(
    () =>
      new Routers(routerConfigs([
        { router_config_name: 'x', virtual_hosts: [] },
        { router_config_name: 'x', virtual_hosts: [] },
      ])),
    /routers\[1\]\.router_config_name: duplicate router "x"/,
  );
});
