/**
 * The config `ringside start` uses without -c: the Layotto runtime API on 127.0.0.1:34904, an
 * in-process egress HTTP proxy that the `mosn` invoker's channel dials, and the built-in demo
 * upstream answering the walk-through's GetUser JSON-RPC call — so a first call works in a minute.
 * Unmatched ids get a 404 from the router, as they would in Layotto's own example.
 */
export const DEFAULT_CONFIG_SOURCE = 'embedded default config';

export const defaultConfigJson = {
  servers: [
    {
      default_log_level: 'INFO',
      routers: [
        {
          router_config_name: 'http_router',
          virtual_hosts: [
            {
              name: 'demo_host',
              domains: ['*'],
              routers: [
                {
                  match: { headers: [{ name: 'id', value: 'org.apache.dubbo.samples.UserProvider' }] },
                  route: { cluster_name: 'demo_upstream' },
                },
              ],
            },
          ],
        },
      ],
      listeners: [
        {
          name: 'grpc',
          address: '127.0.0.1:34904',
          bind_port: true,
          filter_chains: [
            {
              filters: [
                {
                  type: 'grpc',
                  config: {
                    server_name: 'runtime',
                    grpc_config: {
                      rpcs: {
                        mosn: {
                          config: {
                            channel: [{ size: 16, protocol: 'http', listener: 'egress_runtime_http' }],
                          },
                        },
                      },
                    },
                  },
                },
              ],
            },
          ],
        },
        {
          name: 'egress_runtime_http',
          // A bare name: reachable only through RingPipes, no socket is bound.
          address: 'egress_runtime_http',
          filter_chains: [
            {
              filters: [
                {
                  type: 'proxy',
                  config: {
                    downstream_protocol: 'Http1',
                    upstream_protocol: 'Http1',
                    router_config_name: 'http_router',
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  ],
  cluster_manager: {
    clusters: [
      {
        name: 'demo_upstream',
        type: 'SIMPLE',
        lb_type: 'LB_RANDOM',
        hosts: [{ address: '127.0.0.1:34999', weight: 1 }],
      },
    ],
  },
  ringside: {
    dapr: { enabled: true },
    demo_upstream: { enabled: true, address: '127.0.0.1:34999' },
  },
} as const;
