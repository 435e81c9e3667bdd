import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, redactConfig } from '../../src/observability/config-dump.js';

test('config dump redacts api_token, token/password/secret keys and everything under TLS keys, and nothing else', () => {
  const config = {
    ringside: { dapr: { api_token: 'a', app_id: 'app' } },
    cluster_manager: {
      tls_context: { cert_chain: 'CERT', private_key: 'KEY' },
      clusters: [{ name: 'c', tls: { sni: 'x' }, cluster_manager_tls: true, hosts: [{ address: '127.0.0.1:1', auth_token: 't' }] }],
    },
    servers: [{ listeners: [{ name: 'l', filter_chains: [{ tls_context_set: [{ private_key: 'KEY2' }] }], db_password: 'p', client_secret: 's' }] }],
    tokens_used: 3,
    empty_token: null,
  };
  const out = redactConfig(config) as typeof config;
  assert.equal(out.ringside.dapr.api_token, REDACTED);
  assert.equal(out.ringside.dapr.app_id, 'app');
  assert.equal(out.cluster_manager.tls_context as unknown, REDACTED);
  assert.equal(out.cluster_manager.clusters[0]!.tls as unknown, REDACTED);
  assert.equal(out.cluster_manager.clusters[0]!.cluster_manager_tls as unknown, REDACTED);
  assert.equal(out.cluster_manager.clusters[0]!.hosts[0]!.auth_token, REDACTED);
  assert.equal(out.cluster_manager.clusters[0]!.hosts[0]!.address, '127.0.0.1:1');
  assert.equal(out.servers[0]!.listeners[0]!.filter_chains[0]!.tls_context_set as unknown, REDACTED);
  assert.equal(out.servers[0]!.listeners[0]!.db_password, REDACTED);
  assert.equal(out.servers[0]!.listeners[0]!.client_secret, REDACTED);
  assert.equal(out.tokens_used, 3, 'a key merely containing "token" is kept');
  assert.equal(out.empty_token, null, 'an unset secret stays unset');
  assert.doesNotMatch(JSON.stringify(out), /KEY|CERT/);
  assert.equal(config.ringside.dapr.api_token, 'a', 'the running config itself is untouched');
});
