/**
 * The load generator's composition root: every protocol `ringside bench` speaks, registered by name.
 * Both the main thread (prepare) and the load threads (connect) look drivers up here. Each entry
 * loads its driver module on first use, so a load thread starts with only the driver it runs (an
 * HTTP/1.1 thread does not compile protobufjs, grpc-js's HTTP/2 or hessian).
 */
import { Registry } from '../common/registry.js';
import type { ProtocolDriver } from './driver.js';

export type DriverLoader = () => Promise<ProtocolDriver>;

export const protocolDrivers = new Registry<DriverLoader>('bench protocol');
protocolDrivers.register('http1', async () => (await import('./http1-driver.js')).http1Driver);
protocolDrivers.register('grpc', async () => (await import('./grpc-driver.js')).grpcDriver);
protocolDrivers.register('drpc', async () => (await import('./drpc-driver.js')).drpcDriver);
protocolDrivers.register('dubbo', async () => (await import('./dubbo-driver.js')).dubboDriver);
protocolDrivers.register('bolt', async () => (await import('./bolt-driver.js')).boltDriver);
protocolDrivers.register('h2', async () => (await import('./h2-driver.js')).h2Driver);
