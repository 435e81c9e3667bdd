/**
 * `ringside/geerpc`: geerpc (the "7 days Go RPC" framework) for Node, wire-compatible with Go's —
 * Server, Client, XClient with discoveries (fixed list, GeeRegistry, etcd), the HTTP Registry and
 * its heartbeat, and the gob codec underneath.
 */
export { Server, DEFAULT_RPC_PATH, DEFAULT_DEBUG_PATH, type GeeListener, type ServerOptions } from './server.js';
export { Client, type CallOptions, type ClientOptions } from './client.js';
export { XClient } from './xclient.js';
export { SelectMode, MultiServersDiscovery, GeeRegistryDiscovery, DEFAULT_REFRESH_MS, type Discovery } from './discovery.js';
export { EtcdDiscovery, registerEtcd, DEFAULT_ETCD_PREFIX, type EtcdConnection, type EtcdRegistration } from './etcd.js';
export { Registry, startHeartbeat, DEFAULT_REGISTRY_PATH, DEFAULT_REGISTRY_TIMEOUT_MS, DEFAULT_HEARTBEAT_MS, type Heartbeat } from './registry.js';
export { GeeRpcError, SHUTDOWN_MESSAGE, errShutdown, type GeeRpcErrorCode } from './errors.js';
export { MAGIC_NUMBER, GOB_CODEC, JSON_CODEC, type CodecType, type Option } from './option.js';
export { HeaderType, type Header } from './codec.js';
export { parseRpcAddress, formatRpcAddress, type RpcAddress } from './address.js';
export type { MethodTypes } from './service.js';
export { gob, GobEncoder, GobDecoder, GobError, type GobType } from '../protocol/gob/index.js';
