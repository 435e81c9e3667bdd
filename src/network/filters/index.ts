/** The network filters the Net/IO layer ships, for the composition root (src/extensions.ts) to register by name. */
export { tcpProxyFactory } from './tcp-proxy.js';
export type { TcpProxyClusterManager, TcpProxyDeps } from './tcp-proxy.js';
