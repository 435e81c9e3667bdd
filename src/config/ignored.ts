/**
 * MOSN and Layotto keys Ringside accepts and does not act on, with the reason it gives. They are
 * warnings rather than errors so configs written for Layotto load unchanged.
 */
import type { IgnoredKey, IgnoredTable } from './kit.js';

function same(keys: string[], rule: IgnoredKey): Record<string, IgnoredKey> {
  return Object.fromEntries(keys.map((k) => [k, rule]));
}

const route = 'servers[].routers[].virtual_hosts[].routers[]';

export const CONFIG_IGNORED: IgnoredTable = {
  '': {
    admin: { reason: "ignored: Ringside's admin API listens on ringside.admin.address" },
    tracing: { reason: 'ignored: Ringside exports no traces; the key is accepted and has no effect', quietWhenEmpty: true },
    metrics: { reason: 'ignored: Ringside serves its stats on the admin API', quietWhenEmpty: true },
    pprof: { reason: 'ignored: profile Ringside with node --cpu-prof', quietWhenEmpty: true },
    close_graceful: { reason: 'ignored: Ringside always drains gracefully (ringside.drain_timeout)' },
    inherit_old_mosnconfig: { reason: 'ignored: hot upgrade is not supported', quietWhenEmpty: true },
    ...same(['pid', 'uds_dir', 'plugin', 'third_part_codec', 'extends', 'wasm_global_plugins'], { reason: 'ignored: not supported by Ringside', quietWhenEmpty: true }),
  },
  'servers[]': {
    graceful_timeout: { reason: 'ignored: use ringside.drain_timeout' },
    mosn_server_name: { reason: 'ignored: informational in MOSN; Ringside names its threads itself', quietWhenEmpty: true },
    processor: { reason: 'ignored: use ringside.workers' },
    ...same(['global_log_roller', 'use_netpoll_mode'], { reason: 'ignored: not supported by Ringside', quietWhenEmpty: true }),
  },
  'servers[].listeners[]': {
    type: { reason: "ignored: MOSN's ingress / egress tag is informational; every listener works the same", quietWhenEmpty: true },
    use_original_dst: { reason: 'ignored: original-destination listeners are not supported', quietWhenEmpty: true },
    inspector: { reason: 'ignored: TLS inspection is not supported', quietWhenEmpty: true },
  },
  'servers[].listeners[].filter_chains[]': {
    match: { reason: "ignored: MOSN's match string is informational; Ringside matches chains on filter_chain_match.server_names (SNI)", quietWhenEmpty: true },
  },
  'servers[].routers[]': { router_configs: { reason: 'ignored: list virtual_hosts inline' } },
  'servers[].routers[].virtual_hosts[]': { require_tls: { reason: 'ignored: a virtual host cannot demand TLS; put tls_context on the listener', quietWhenEmpty: true } },
  [route]: same(['redirect', 'metadata', 'per_filter_config', 'request_mirror_policies'], { reason: 'ignored: not supported by Ringside', quietWhenEmpty: true }),
  [`${route}.route`]: same(
    ['cluster_header', 'metadata_match', 'regex_rewrite', 'auto_host_rewrite', 'auto_host_rewrite_header', 'request_mirror_policies'],
    { reason: 'ignored: not supported by Ringside', quietWhenEmpty: true },
  ),
  [`${route}.route.hash_policy[].http_cookie`]: same(['path', 'ttl'], { reason: 'ignored: Ringside hashes a cookie the client sends and never sets one', quietWhenEmpty: true }),
  [`${route}.route.weighted_clusters[].cluster`]: { metadata_match: { reason: 'ignored: subset load balancing is not supported', quietWhenEmpty: true } },
  [`${route}.route.weighted_clusters.clusters[].cluster`]: { metadata_match: { reason: 'ignored: subset load balancing is not supported', quietWhenEmpty: true } },
  cluster_manager: {
    tls_context: { reason: "ignored: set tls_context on each cluster", quietWhenEmpty: true },
    clusters_configs: { reason: 'ignored: list clusters inline' },
    ...same(['auto_discovery', 'registry_use_health_check'], { reason: 'ignored: service discovery is not supported', quietWhenEmpty: true }),
  },
  'static_resources.clusters[]': same(['connect_timeout', 'http2_protocol_options', 'typed_extension_protocol_options', 'upstream_connection_options'], {
    reason: 'ignored: grpc-js manages the connection to the control plane (HTTP/2, reconnect backoff)',
  }),
  'static_resources.clusters[].load_assignment': { cluster_name: { reason: 'ignored: the cluster is named by its name', quietWhenEmpty: true } },
  'dynamic_resources.ads_config.grpc_services[]': { timeout: { reason: 'ignored: the ADS stream has no deadline; it is re-opened with backoff when it ends' } },
  'cluster_manager.clusters[]': {
    conn_buffer_limit_bytes: { reason: "ignored: upstream connections use the socket's own backpressure (Node's write high watermark)", quietWhenEmpty: true },
    ...same(['sub_type', 'spec', 'lb_subset_config', 'original_dst_lb_config', 'lbconfig', 'cluster_manager_tls'], { reason: 'ignored: not supported by Ringside', quietWhenEmpty: true }),
    ...same(['respect_dns_ttl', 'dns_resolvers', 'dns_resolver_file', 'dns_resolver_port'], {
      reason: 'ignored: host names resolve through the system resolver (getaddrinfo), every dns_refresh_rate',
      quietWhenEmpty: true,
    }),
  },
  'cluster_manager.clusters[].hosts[]': {
    tls_disable: { reason: "ignored: every host of a cluster with tls_context is dialed with TLS", quietWhenEmpty: true },
    metadata: { reason: 'ignored: subset load balancing is not supported', quietWhenEmpty: true },
  },
  'cluster_manager.clusters[].health_check': {
    service_name: { reason: 'ignored: checks are identified by their cluster; no service name is sent or verified', quietWhenEmpty: true },
    ...same(['common_callbacks', 'event_log_path'], { reason: 'ignored: not supported by Ringside', quietWhenEmpty: true }),
  },
};
