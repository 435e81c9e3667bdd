/**
 * tls_context on listeners and clusters is validated at load, with the JSON path of each problem:
 * unreadable files, bad PEM, a key that does not match its certificate, keys on the wrong side,
 * what Ringside does not build (SDS, fall_back, filter_chain_match criteria other than server_names),
 * SNI chains that cannot be told apart. `ringside start` exits 2 on them before anything starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { assertIssue, baseConfig, configIssues, parse } from './helpers.js';
import { TestPki } from '../mesh/tls-certs.js';

const pki = new TestPki('ca');
const server = pki.issue('server', 'localhost', ['DNS:localhost']);
const otherKey = pki.issue('other', 'other');
const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const L = 'servers[0].listeners[0].filter_chains[0]';

function withListenerTls(chain: Record<string, unknown>, more: Record<string, unknown>[] = []) {
  const cfg = baseConfig();
  const first = cfg.servers[0]!.listeners[0]!;
  Object.assign(first.filter_chains[0]!, chain);
  for (const c of more) first.filter_chains.push({ filters: first.filter_chains[0]!.filters, ...c } as never);
  return cfg;
}

const good = (extra: Record<string, unknown> = {}) => ({ status: true, cert_chain: server.cert, private_key: server.key, ...extra });

test('a valid listener tls_context (files or inline PEM) loads without warnings', () => {
  assert.deepEqual(parse(withListenerTls({ tls_context: good({ ca_cert: pki.ca, verify_client: true, alpn: 'h2,http/1.1', min_version: 'TLS1.2' }) })).warnings, []);
  const inline = good({ cert_chain: pki.read(server.cert), private_key: pki.read(server.key) });
  assert.deepEqual(parse(withListenerTls({ tls_context: inline })).warnings, []);
});

test('a missing file, bad PEM, or a key that does not match fail with the key path', () => {
  assertIssue(configIssues(() => parse(withListenerTls({ tls_context: good({ cert_chain: '/nonexistent/cert.pem' }) }))), `${L}.tls_context.cert_chain`, /cannot read the file "\/nonexistent\/cert.pem": ENOENT/);
  const garbage = pki.path('garbage.pem');
  writeFileSync(garbage, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
  assertIssue(configIssues(() => parse(withListenerTls({ tls_context: good({ cert_chain: garbage }) }))), `${L}.tls_context.cert_chain`, /not valid PEM/);
  assertIssue(configIssues(() => parse(withListenerTls({ tls_context: good({ private_key: otherKey.key }) }))), `${L}.tls_context.private_key`, /does not match the certificate/);
  assertIssue(configIssues(() => parse(withListenerTls({ tls_context: good({ verify_client: true }) }))), `${L}.tls_context.ca_cert`, /verify_client needs ca_cert/);
  assertIssue(configIssues(() => parse(withListenerTls({ tls_context: { status: true } }))), `${L}.tls_context.cert_chain`, /needs cert_chain/);
});

test('keys of the other side, unsupported values and what Ringside does not build are errors at their path', () => {
  const issues = configIssues(() =>
    parse(withListenerTls({ tls_context: good({ server_name: 'x', insecure_skip: true, alpn: 'sofa', min_version: 'SSL3', cipher_suites: 'NOPE-CIPHER', sds_source: { CertificateConfig: {} }, fall_back: true }) })),
  );
  assertIssue(issues, `${L}.tls_context.server_name`, /applies to a cluster/);
  assertIssue(issues, `${L}.tls_context.insecure_skip`, /applies to a cluster/);
  assertIssue(issues, `${L}.tls_context.alpn`, /"sofa" is not supported/);
  assertIssue(issues, `${L}.tls_context.min_version`, /not a TLS version/);
  assertIssue(issues, `${L}.tls_context.cipher_suites`, /unknown cipher suite "NOPE-CIPHER"/);
  assertIssue(issues, `${L}.tls_context.sds_source`, /SDS is not supported/);
  assertIssue(issues, `${L}.tls_context.fall_back`, /not supported/);
  const cluster = baseConfig();
  Object.assign(cluster.cluster_manager.clusters[0]!, { tls_context: { status: true, verify_client: true, cert_chain: server.cert } });
  const ci = configIssues(() => parse(cluster));
  assertIssue(ci, 'cluster_manager.clusters[0].tls_context.verify_client', /applies to a listener/);
  assertIssue(ci, 'cluster_manager.clusters[0].tls_context.private_key', /needs both cert_chain and private_key/);
});

test('SNI chains: server_names need TLS, one default chain, no name twice, no other match criteria', () => {
  const chainA = { filter_chain_match: { server_names: ['a.test'] }, tls_context: good() };
  assert.deepEqual(parse(withListenerTls(chainA, [{ tls_context: good() }])).warnings, []);
  assertIssue(configIssues(() => parse(withListenerTls({ filter_chain_match: { server_names: ['a.test'] } }))), `${L}.filter_chain_match`, /needs an enabled tls_context/);
  assertIssue(configIssues(() => parse(withListenerTls({ tls_context: good() }, [{ tls_context: good() }]))), 'servers[0].listeners[0].filter_chains[1]', /only one filter chain may leave out filter_chain_match/);
  assertIssue(configIssues(() => parse(withListenerTls(chainA, [chainA]))), 'servers[0].listeners[0].filter_chains[1].filter_chain_match.server_names[0]', /already matched by filter_chains\[0\]/);
  assertIssue(configIssues(() => parse(withListenerTls(chainA, [{}]))), 'servers[0].listeners[0].filter_chains[1]', /needs an enabled tls_context/);
  assertIssue(
    configIssues(() => parse(withListenerTls({ filter_chain_match: { server_names: ['a.test'], destination_port: 443 }, tls_context: good() }))),
    `${L}.filter_chain_match.destination_port`,
    /not supported/,
  );
});

test('ringside start exits 2 naming the path of an unreadable certificate, before any worker starts', () => {
  const cfg = { ...withListenerTls({ tls_context: good({ private_key: pki.path('missing.key') }) }), ringside: { admin: { address: '127.0.0.1:0' } } };
  const file = pki.path('bad.json');
  writeFileSync(file, JSON.stringify(cfg));
  const r = spawnSync(process.execPath, [main, 'start', '-c', file], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /servers\[0\]\.listeners\[0\]\.filter_chains\[0\]\.tls_context\.private_key: cannot read the file ".*missing\.key": ENOENT/);
  assert.doesNotMatch(r.stderr, /worker\/\d/);
});
