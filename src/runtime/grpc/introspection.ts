/**
 * gRPC health (grpc.health.v1.Health Check/Watch, for Kubernetes gRPC probes and grpc-health-probe)
 * and server reflection v1 and v1alpha (grpcurl without a proto file) for a runtime server, from the
 * maintained packages grpc-health-check and @grpc/reflection.
 *
 * Why reflection is registered lazily: building @grpc/reflection's index means importing it and
 * proto-loader and parsing the runtime protos a second time (about 200 ms of CPU and 7 MiB of heap on
 * every worker with a runtime listener, in a sidecar that is rarely reflected on). So the two
 * ServerReflectionInfo methods are registered with pass-through (de)serializers, and the first call
 * on either builds the real ReflectionService; from then on each call is handed to its handler
 * through a small adapter that decodes what the client sends and encodes what the handler writes.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { status as GrpcStatus, type MethodDefinition, type Server, type ServerDuplexStream, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { DAPR_SERVICE, LAYOTTO_SERVICE, protoDir } from '../proto.js';

export const HEALTH_SERVICE = 'grpc.health.v1.Health';

const REFLECTION_PATHS = ['/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo'] as const;

/** One reflection method as @grpc/reflection registers it: its definition and its handler. */
interface ReflectionMethod {
  definition: MethodDefinition<unknown, unknown>;
  handler: (stream: unknown) => void;
}

let reflection: Promise<Map<string, ReflectionMethod>> | undefined;

/** Built once per thread, on the first reflection call: the runtime and health protos as proto-loader describes them. */
function reflectionMethods(): Promise<Map<string, ReflectionMethod>> {
  reflection ??= Promise.all([import('@grpc/proto-loader'), import('@grpc/reflection'), import('grpc-health-check')]).then(([protoLoader, { ReflectionService }, { protoPath: healthProtoPath }]) => {
    const options = { keepCase: true, includeDirs: [protoDir()] };
    const runtime = protoLoader.loadSync([join('spec/proto/runtime/v1/runtime.proto'), join('dapr/proto/runtime/v1/dapr.proto')], options);
    const health = protoLoader.loadSync(healthProtoPath, { keepCase: true });
    const methods = new Map<string, ReflectionMethod>();
    // addToServer only calls addService: capture each method's definition and handler by path.
    const capture = {
      addService(service: ServiceDefinition, impl: UntypedServiceImplementation): void {
        for (const [name, definition] of Object.entries(service)) {
          methods.set(definition.path, { definition: definition as MethodDefinition<unknown, unknown>, handler: impl[name] as (stream: unknown) => void });
        }
      },
    };
    new ReflectionService({ ...runtime, ...health }).addToServer(capture as unknown as Server);
    return methods;
  });
  return reflection;
}

const passThrough = (b: Buffer): Buffer => b;

/** Hands one raw-bytes reflection call to the real handler, decoding requests and encoding replies. */
function bridgeReflection(call: ServerDuplexStream<Buffer, Buffer>, method: ReflectionMethod): void {
  const { definition } = method;
  const stream = new EventEmitter() as EventEmitter & { write(msg: unknown): boolean; end(): void };
  stream.write = (msg) => call.write(definition.responseSerialize(msg));
  stream.end = () => call.end();
  method.handler(stream);
  call.on('data', (bytes: Buffer) => {
    let msg: unknown;
    try {
      msg = definition.requestDeserialize(bytes);
    } catch (err) {
      call.emit('error', { code: GrpcStatus.INTERNAL, details: `cannot decode the reflection request: ${(err as Error).message}` });
      return;
    }
    stream.emit('data', msg);
  });
  call.on('end', () => stream.emit('end'));
}

function lazyReflectionService(path: string): ServiceDefinition {
  return {
    ServerReflectionInfo: {
      path,
      requestStream: true,
      responseStream: true,
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: passThrough,
      responseDeserialize: passThrough,
    },
  };
}

function lazyReflectionHandler(path: string): UntypedServiceImplementation {
  return {
    ServerReflectionInfo: (call: ServerDuplexStream<Buffer, Buffer>) => {
      // Until the handler is attached the call's stream stays paused, so no request is lost.
      reflectionMethods().then(
        (methods) => {
          const method = methods.get(path);
          if (method === undefined) call.emit('error', { code: GrpcStatus.UNIMPLEMENTED, details: `${path} is not served` });
          else bridgeReflection(call, method);
        },
        (err: unknown) => call.emit('error', { code: GrpcStatus.INTERNAL, details: `server reflection failed to load: ${err instanceof Error ? err.message : String(err)}` }),
      );
    },
  };
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
    for (const path of REFLECTION_PATHS) server.addService(lazyReflectionService(path), lazyReflectionHandler(path));
  }
}
