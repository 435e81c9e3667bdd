/**
 * Dapr settings (`ringside.dapr`) with the environment defaults Dapr's SDKs use, and the two listeners
 * that serve the Dapr API on a worker.
 */
import type { DaprSettings } from '../../types/runtime.js';

/** Defaults from DAPR_GRPC_PORT, DAPR_HTTP_PORT, DAPR_API_TOKEN and APP_ID; config values win. */
export function daprSettingsFromEnv(config: Partial<DaprSettings> = {}, env: NodeJS.ProcessEnv = process.env): DaprSettings {
  const port = (v: string | undefined, d: number): number => {
    const n = Number(v);
    return Number.isInteger(n) && n > 0 && n < 65536 ? n : d;
  };
  return {
    enabled: config.enabled ?? true,
    grpcPort: config.grpcPort ?? port(env['DAPR_GRPC_PORT'], 50001),
    httpPort: config.httpPort ?? port(env['DAPR_HTTP_PORT'], 3500),
    apiToken: config.apiToken ?? (env['DAPR_API_TOKEN'] || undefined),
    appId: config.appId ?? (env['APP_ID'] || 'ringside'),
    ...(config.grpcProxy !== undefined ? { grpcProxy: config.grpcProxy } : {}),
  };
}

/**
 * MOSN-shaped listener configs for the Dapr ports: the gRPC one shares the runtime server named
 * `serverName` (so Dapr InvokeService uses the same invoker); the HTTP one uses the dapr_http filter.
 */
export function daprListeners(settings: DaprSettings, serverName = 'runtime', host = '127.0.0.1'): object[] {
  if (!settings.enabled) return [];
  return [
    {
      name: 'dapr_grpc',
      address: `${host}:${settings.grpcPort}`,
      bind_port: true,
      filter_chains: [{ filters: [{ type: 'grpc', config: { server_name: serverName } }] }],
    },
    {
      name: 'dapr_http',
      address: `${host}:${settings.httpPort}`,
      bind_port: true,
      filter_chains: [{ filters: [{ type: 'dapr_http', config: { server_name: serverName } }] }],
    },
  ];
}
