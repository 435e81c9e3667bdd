/**
 * The load generator's composition root: every protocol `ringside bench` speaks, registered by name.
 * Both the main thread (prepare) and the load threads (connect) look drivers up here.
 */
import { Registry } from '../common/registry.js';
import type { ProtocolDriver } from './driver.js';
import { grpcDriver } from './grpc-driver.js';
import { http1Driver } from './http1-driver.js';
import { drpcDriver } from './drpc-driver.js';
import { dubboDriver } from './dubbo-driver.js';
import { boltDriver } from './bolt-driver.js';
import { h2Driver } from './h2-driver.js';

export const protocolDrivers = new Registry<ProtocolDriver>('bench protocol');
protocolDrivers.register(http1Driver.name, http1Driver);
protocolDrivers.register(grpcDriver.name, grpcDriver);
protocolDrivers.register(drpcDriver.name, drpcDriver);
protocolDrivers.register(dubboDriver.name, dubboDriver);
protocolDrivers.register(boltDriver.name, boltDriver);
protocolDrivers.register(h2Driver.name, h2Driver);
