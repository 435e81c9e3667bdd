/**
 * gRPC health (grpc.health.v1.Health Check/Watch, for Kubernetes gRPC probes and grpc-health-probe)
 * and server reflection v1 and v1alpha (grpcurl without a proto file) for a runtime server, from the
 * maintained packages grpc-health-check and @grpc/reflection.
 */
import { join } from 'node:path';
import type { Server } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import { DAPR_SERVICE, LAYOTTO_SERVICE, protoDir } from '../proto.js';

export const HEALTH_SERVICE = 'grpc.health.v1.Health';

let reflection: ReflectionService | undefined;

/** Parsed once per thread: the runtime protos and the health proto, as proto-loader describes them. */
function reflectionService(): ReflectionService {
  if (reflection !== undefined) return reflection;
  const options: protoLoader.Options = { keepCase: true, includeDirs: [protoDir()] };
  const runtime = protoLoader.loadSync([join('spec/proto/runtime/v1/runtime.proto'), join('dapr/proto/runtime/v1/dapr.proto')], options);
  const health = protoLoader.loadSync(healthProtoPath, { keepCase: true });
  reflection = new ReflectionService({ ...runtime, ...health });
  return reflection;
}

/** The health states of one server: the whole server ('') and each service it serves. */
export class RuntimeHealth {
  readonly #impl: HealthImplementation;
  readonly #services: string[];

  constructor(daprEnabled: boolean) {
    this.#services = ['', LAYOTTO_SERVICE, ...(daprEnabled ? [DAPR_SERVICE] : [])];
    this.#impl = new HealthImplementation(Object.fromEntries(this.#services.map((s) => [s, 'SERVING' as ServingStatus])));
  }

  /** NOT_SERVING while the sidecar drains; Watch streams are told at once. */
  setServing(serving: boolean): void {
    for (const s of this.#services) this.#impl.setStatus(s, serving ? 'SERVING' : 'NOT_SERVING');
  }

  addToServer(server: Server): void {
    this.#impl.addToServer(server);
    reflectionService().addToServer(server);
  }
}
