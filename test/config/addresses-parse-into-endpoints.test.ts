import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress } from '../../src/config/primitives.js';
import { HOST_ADDRESS, LISTENER_ADDRESS } from '../../src/config/schema.js';
import { baseConfig, parse } from './helpers.js';

test('listener addresses: host:port, socket paths and bare names', () => {
  assert.deepEqual(parseAddress('127.0.0.1:34904', LISTENER_ADDRESS), { ok: true, value: { kind: 'tcp', host: '127.0.0.1', port: 34904 } });
  assert.deepEqual(parseAddress('[::1]:80', LISTENER_ADDRESS), { ok: true, value: { kind: 'tcp', host: '::1', port: 80 } });
  assert.deepEqual(parseAddress(':8080', LISTENER_ADDRESS), { ok: true, value: { kind: 'tcp', host: '0.0.0.0', port: 8080 } });
  assert.deepEqual(parseAddress('/tmp/client-proxy.sock', LISTENER_ADDRESS), { ok: true, value: { kind: 'unix', path: '/tmp/client-proxy.sock' } });
  assert.deepEqual(parseAddress('./rs.sock', LISTENER_ADDRESS), { ok: true, value: { kind: 'unix', path: './rs.sock' } });
  assert.deepEqual(parseAddress('unix:rs.sock', LISTENER_ADDRESS), { ok: true, value: { kind: 'unix', path: 'rs.sock' } });
  assert.deepEqual(parseAddress('egress_runtime_http', LISTENER_ADDRESS), { ok: true, value: { kind: 'inprocess', name: 'egress_runtime_http' } });
});

test('malformed addresses explain themselves', () => {
  assert.deepEqual(parseAddress('::1:80', LISTENER_ADDRESS), { ok: false, message: 'IPv6 hosts need brackets, e.g. "[::1]:80", got "::1:80"' });
  assert.equal(parseAddress('host:http', LISTENER_ADDRESS).ok, false);
  assert.equal(parseAddress('egress', HOST_ADDRESS).ok, false);
});

test('network "unix" makes a listener address a socket path, as in Layotto config_uds.json', () => {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.listeners[0]!, { address: 'client-proxy.sock', network: 'unix' });
  assert.deepEqual(parse(cfg).config.servers[0]!.listeners[0]!.endpoint, { kind: 'unix', path: 'client-proxy.sock' });
});
