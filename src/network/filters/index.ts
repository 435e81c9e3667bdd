/**
 * The network filters the Net/IO layer ships, for the composition root to register by name:
 *
 *   for (const [name, factory] of builtinNetworkFilters) ext.networkFilters.register(name, factory);
 */
import type { NetworkFilterFactory } from '../../types/network.js';
import { tcpProxyFactory } from './tcp-proxy.js';

export const builtinNetworkFilters: ReadonlyArray<readonly [string, NetworkFilterFactory]> = [['tcp_proxy', tcpProxyFactory]];

export { tcpProxyFactory };
export type { TcpProxyClusterManager } from './tcp-proxy.js';
