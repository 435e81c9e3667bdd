/**
 * Envoy's TLS transport socket from xDS becomes MOSN's tls_context: a listener chain's
 * DownstreamTlsContext (filename data sources, client validation, ALPN, versions) and a cluster's
 * UpstreamTlsContext (inline PEM, sni); the result passes the config loader (files read, key checked).
 * What Ringside does not build (SDS, SAN matchers, another transport socket) is refused with the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envoyProtos } from '../../src/xds/protos.js';
import { convertCluster, convertListener, XdsFieldError } from '../../src/xds/convert.js';
import { parse } from '../config/helpers.js';
import { TestPki } from './tls-certs.js';

const pki = new TestPki('ca');
const server = pki.issue('server', 'localhost', ['DNS:localhost']);
const client = pki.issue('client', 'client');

test('DownstreamTlsContext and UpstreamTlsContext map onto tls_context and load', async () => {
  const protos = await envoyProtos();
  const any = (typeName: string, m: Record<string, unknown>) => {
    const t = protos.root.lookupType(typeName);
    return { type_url: `type.googleapis.com/${typeName}`, value: t.encode(t.fromObject(m)).finish() };
  };
  const hcm = any('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
    stat_prefix: 'in',
    codec_type: 'AUTO',
    route_config: { name: 'rc', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'backend' } }] }] },
    http_filters: [{ name: 'envoy.filters.http.router', typed_config: any('envoy.extensions.filters.http.router.v3.Router', {}) }],
  });
  const downstream = any('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', {
    common_tls_context: {
      tls_certificates: [{ certificate_chain: { filename: server.cert }, private_key: { filename: server.key } }],
      validation_context: { trusted_ca: { filename: pki.ca } },
      alpn_protocols: ['h2', 'http/1.1'],
      tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
    },
    require_client_certificate: { value: true },
  });
  const listenerMsg = protos.unpack(
    any('envoy.config.listener.v3.Listener', {
      name: 'ingress',
      address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
      filter_chains: [{ filters: [{ name: 'hcm', typed_config: hcm }], transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: downstream } }],
    }),
  );
  const l = convertListener(listenerMsg, protos).value;
  const chain = (l.listener['filter_chains'] as Record<string, unknown>[])[0]!;
  assert.deepEqual(chain['tls_context'], {
    status: true,
    cert_chain: server.cert,
    private_key: server.key,
    min_version: 'TLS1.2',
    alpn: 'h2,http/1.1',
    ca_cert: pki.ca,
    verify_client: true,
    require_client_cert: true,
  });

  const upstream = any('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', {
    common_tls_context: {
      tls_certificates: [{ certificate_chain: { inline_string: pki.read(client.cert) }, private_key: { inline_bytes: Buffer.from(pki.read(client.key)) } }],
      validation_context: { trusted_ca: { inline_string: pki.read(pki.ca) } },
    },
    sni: 'localhost',
  });
  const clusterMsg = protos.unpack(
    any('envoy.config.cluster.v3.Cluster', {
      name: 'backend',
      type: 'STATIC',
      load_assignment: { cluster_name: 'backend', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9 } } } }] }] },
      transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: upstream },
    }),
  );
  const c = convertCluster(clusterMsg, protos).value.cluster;
  const up = c['tls_context'] as Record<string, unknown>;
  assert.equal(up['server_name'], 'localhost');
  assert.equal(up['insecure_skip'], undefined, 'a validation context means the server is verified');
  assert.match(String(up['private_key']), /BEGIN PRIVATE KEY/);

  // The loader validates what the control plane sent like a file: it loads, and a bad path is refused.
  const cfg = { servers: [{ routers: [l.inlineRouter], listeners: [l.listener] }], cluster_manager: { clusters: [c] } };
  assert.ok(parse(cfg).config.servers[0]!.listeners[0]!.filter_chains[0]!.tls_context?.status);

  const sds = any('envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', { common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'cert' }] } });
  const bad = protos.unpack(
    any('envoy.config.listener.v3.Listener', {
      name: 'x',
      address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
      filter_chains: [{ filters: [{ name: 'hcm', typed_config: hcm }], transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: sds } }],
    }),
  );
  assert.throws(() => convertListener(bad, protos), (e: unknown) => e instanceof XdsFieldError && /transport_socket\.typed_config\.common_tls_context\.tls_certificate_sds_secret_configs/.test(e.message));
});
