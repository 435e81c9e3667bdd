/**
 * The xDS part of a validated config (Envoy's bootstrap keys): the control plane's address, the node
 * identity and which types come over ADS. The ADS cluster is looked up in `static_resources.clusters`
 * (Envoy's place) or else in `cluster_manager.clusters` (MOSN's); its first endpoint is dialed.
 */
import { isIP } from 'node:net';
import { ConfigError } from '../config/errors.js';
import type { RingsideConfig } from '../config/types.js';

export interface XdsBootstrap {
  server: string;
  node: Record<string, unknown>;
  nodeOnFirstMessageOnly: boolean;
  lds: boolean;
  cds: boolean;
}

/** null without dynamic_resources; throws ConfigError (with the JSON path) when the bootstrap is unusable. */
export function xdsBootstrapOf(config: RingsideConfig, source: string): XdsBootstrap | null {
  const dyn = config.dynamic_resources;
  if (dyn === undefined) return null;
  const issues: { path: string; message: string }[] = [];
  const name = dyn.ads_config.grpc_services[0]!.envoy_grpc.cluster_name;
  const path = 'dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name';
  let server: string | undefined;
  const envoy = (config.static_resources?.clusters ?? []).find((c) => c.name === name);
  if (envoy !== undefined) {
    const sa = envoy.load_assignment.endpoints[0]!.lb_endpoints[0]!.endpoint.address.socket_address;
    // grpc-js resolves a name itself (STRICT_DNS / LOGICAL_DNS); STATIC means an IP address, as in Envoy.
    if (envoy.type === 'STATIC' && isIP(sa.address) === 0) {
      issues.push({ path: 'static_resources.clusters[].load_assignment', message: `a STATIC cluster needs an IP address, got "${sa.address}" (use STRICT_DNS for a name)` });
    }
    server = sa.address.includes(':') ? `[${sa.address}]:${sa.port_value}` : `${sa.address}:${sa.port_value}`;
  } else {
    const mosn = config.cluster_manager.clusters.find((c) => c.name === name);
    if (mosn?.hosts[0] !== undefined) server = mosn.hosts[0].address;
  }
  if (server === undefined) issues.push({ path, message: `no cluster "${name}" with an endpoint in static_resources.clusters or cluster_manager.clusters` });
  if (config.node === undefined) issues.push({ path: 'node', message: 'a control plane needs node.id to know this sidecar' });
  if (dyn.lds_config === undefined && dyn.cds_config === undefined) {
    issues.push({ path: 'dynamic_resources', message: 'set lds_config and/or cds_config to {"ads": {}}' });
  }
  if (issues.length > 0) throw new ConfigError(source, issues);
  return {
    server: server!,
    node: nodeMessage(JSON.parse(JSON.stringify(config.node)) as NonNullable<RingsideConfig['node']>),
    nodeOnFirstMessageOnly: dyn.ads_config.set_node_on_first_message_only,
    lds: dyn.lds_config?.ads !== undefined,
    cds: dyn.cds_config?.ads !== undefined,
  };
}

/** envoy.config.core.v3.Node as protobufjs' fromObject takes it (metadata as a google.protobuf.Struct). */
function nodeMessage(node: NonNullable<RingsideConfig['node']>): Record<string, unknown> {
  return {
    id: node.id,
    cluster: node.cluster,
    ...(node.metadata !== undefined ? { metadata: struct(node.metadata) } : {}),
    ...(node.locality !== undefined ? { locality: node.locality } : {}),
    user_agent_name: 'ringside',
  };
}

function struct(o: Record<string, unknown>): { fields: Record<string, unknown> } {
  return { fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, value(v)])) };
}

function value(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return { null_value: 'NULL_VALUE' };
  if (typeof v === 'number') return { number_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  if (typeof v === 'string') return { string_value: v };
  if (Array.isArray(v)) return { list_value: { values: v.map(value) } };
  return { struct_value: struct(v as Record<string, unknown>) };
}
