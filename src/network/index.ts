/**
 * The Net/IO layer's public surface (MOSN pkg/network + pkg/filter/network/tcpproxy).
 */
export { WorkerNetwork } from './worker-network.js';
export type {
  FilterConfigInput,
  ListenerConfigInput,
  ListenerFilterFactory,
  WorkerNetworkOptions,
  WorkerNetworkStats,
} from './worker-network.js';
export { ConnectionImpl } from './connection/connection.js';
export type { ConnectionOptions } from './connection/connection.js';
export { dial, dialClient, parseDialTarget, describeTarget } from './connection/dialer.js';
export type { DialOptions } from './connection/dialer.js';
export { ListenerBase } from './listeners/base.js';
export type { AcceptResult, ChainInstaller, ListenerSettings } from './listeners/base.js';
export { TcpListener } from './listeners/tcp-listener.js';
export type { TcpListenerOptions } from './listeners/tcp-listener.js';
export { UnixListener } from './listeners/unix-listener.js';
export { InProcessListener, InProcessListeners } from './listeners/inprocess.js';
export type { PipeAcceptResult } from './listeners/inprocess.js';
export { nativeReusePort } from './listeners/reuseport.js';
export type { ReusePortMode } from './listeners/reuseport.js';
export { parseListenAddress } from './address.js';
export { tcpProxyFactory } from './filters/index.js';
export type { TcpProxyClusterManager, TcpProxyDeps } from './filters/index.js';
