/**
 * Loads Ringside's .proto files (Layotto runtime + the Dapr subset) with protobufjs and turns their
 * services into grpc-js service definitions directly, so no proto-loader or codegen is needed.
 */
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { ServiceDefinition, MethodDefinition } from '@grpc/grpc-js';

/** google.protobuf.Any as protobufjs decodes it with keepCase. */
export interface AnyMessage {
  type_url?: string;
  /** A plain empty array when the field is absent on the wire (protobufjs's default). */
  value?: Uint8Array | number[];
}

export interface HttpExtensionMessage {
  verb?: number;
  querystring?: string;
}

/** Layotto CommonInvokeRequest and Dapr InvokeRequest share one shape. */
export interface InvokeRequestMessage {
  method?: string;
  data?: AnyMessage | null;
  content_type?: string;
  http_extension?: HttpExtensionMessage | null;
}

export interface InvokeServiceRequestMessage {
  id?: string;
  message?: InvokeRequestMessage | null;
}

export interface InvokeResponseMessage {
  data: AnyMessage;
  content_type: string;
}

export interface SayHelloRequestMessage {
  service_name?: string;
  name?: string;
  data?: AnyMessage | null;
}

export interface SayHelloResponseMessage {
  hello: string;
  data?: AnyMessage;
}

export interface GetMetadataResponseMessage {
  id: string;
  active_actors_count: { type: string; count: number }[];
  registered_components: { name: string; type: string; version: string; capabilities: string[] }[];
  extended_metadata: Record<string, string>;
  subscriptions: object[];
  http_endpoints: { name: string }[];
  app_connection_properties: { port: number; protocol: string; channel_address: string; max_concurrency: number };
  runtime_version: string;
  enabled_features: string[];
  actor_runtime: { runtime_status: number; active_actors: { type: string; count: number }[]; host_ready: boolean; placement: string };
}

export interface SetMetadataRequestMessage {
  key?: string;
  value?: string;
}

/** HTTPExtension.Verb numbers, identical in Layotto's and Dapr's protos. */
export const VERB_NAMES = ['NONE', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

export const LAYOTTO_SERVICE = 'spec.proto.runtime.v1.Runtime';
export const DAPR_SERVICE = 'dapr.proto.runtime.v1.Dapr';
/** What an app that speaks gRPC serves for Dapr (the `grpc` channel calls its OnInvoke). */
export const APP_CALLBACK_SERVICE = 'dapr.proto.runtime.v1.AppCallback';

/** Finds proto/ from the module's own location: src/runtime (ts-node) or dist/src/runtime (built). */
export function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'spec/proto/runtime/v1/runtime.proto'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('cannot find the proto/ directory above ' + fileURLToPath(import.meta.url));
}

let cachedRoot: protobuf.Root | undefined;

/** Parses the .proto files once per thread; the Root is immutable afterwards. */
export function runtimeProtoRoot(): protobuf.Root {
  if (cachedRoot !== undefined) return cachedRoot;
  const base = protoDir();
  const root = new protobuf.Root();
  // Imports are written relative to proto/; google/protobuf/* resolve to protobufjs's bundled types.
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') || target.startsWith(base) ? target : join(base, target));
  root.loadSync(
    [
      'spec/proto/runtime/v1/runtime.proto',
      'dapr/proto/common/v1/common.proto',
      'dapr/proto/runtime/v1/dapr.proto',
      'dapr/proto/runtime/v1/appcallback.proto',
      'google/rpc/status.proto',
    ],
    { keepCase: true },
  );
  root.resolveAll();
  cachedRoot = root;
  return root;
}

function methodDefinition(service: protobuf.Service, method: protobuf.Method): MethodDefinition<object, object> {
  const req = method.resolvedRequestType;
  const res = method.resolvedResponseType;
  if (req === null || res === null) throw new Error(`unresolved types in ${service.fullName}.${method.name}`);
  return {
    path: `/${service.fullName.replace(/^\./, '')}/${method.name}`,
    requestStream: method.requestStream === true,
    responseStream: method.responseStream === true,
    // Writers in Node produce Buffers already; the cast only narrows protobufjs's Uint8Array type.
    requestSerialize: (value: object) => req.encode(value).finish() as Buffer,
    requestDeserialize: (bytes: Buffer) => req.decode(bytes),
    responseSerialize: (value: object) => res.encode(value).finish() as Buffer,
    responseDeserialize: (bytes: Buffer) => res.decode(bytes),
    originalName: method.name,
  };
}

/** A grpc-js ServiceDefinition for a service of the runtime protos, by full name. */
export function serviceDefinition(fullName: string): ServiceDefinition {
  const service = runtimeProtoRoot().lookupService(fullName);
  const def: Record<string, MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) def[method.name] = methodDefinition(service, method);
  return def;
}

/** A message type of the runtime protos, by full name (for clients, tests and benchmarks). */
export function messageType(fullName: string): protobuf.Type {
  return runtimeProtoRoot().lookupType(fullName);
}
