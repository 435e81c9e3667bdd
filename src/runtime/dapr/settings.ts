/**
 * The two listeners that serve the Dapr API on a worker, from `ringside.dapr` (whose ports and token
 * the config schema defaults from DAPR_GRPC_PORT, DAPR_HTTP_PORT and DAPR_API_TOKEN).
 */
import type { DaprSettings } from '../../config/types.js';

/**
 * MOSN-shaped listener configs for the Dapr ports: the gRPC one shares the runtime server named
 * `serverName` (so Dapr InvokeService uses the same invoker); the HTTP one uses the dapr_http filter.
 */
export function daprListeners(settings: DaprSettings, serverName = 'runtime', host = '127.0.0.1'): object[] {
  if (!settings.enabled) return [];
  return [
    {
      name: 'dapr_grpc',
      address: `${host}:${settings.grpc_port}`,
      bind_port: true,
      filter_chains: [{ filters: [{ type: 'grpc', config: { server_name: serverName } }] }],
    },
    {
      name: 'dapr_http',
      address: `${host}:${settings.http_port}`,
      bind_port: true,
      filter_chains: [{ filters: [{ type: 'dapr_http', config: { server_name: serverName } }] }],
    },
  ];
}
