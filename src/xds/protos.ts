/**
 * The Envoy v3 protos Ringside's xDS client speaks, loaded with protobufjs from the copies that
 * @grpc/grpc-js-xds ships (deps/envoy-api, xds, googleapis, protoc-gen-validate). Loaded once, on the
 * main thread, the first time an ADS stream is opened (about a second: hundreds of files).
 */
import { accessSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

export { TYPE, HCM_TYPE, TCP_PROXY_TYPE, ROUTER_TYPE, type ResourceType } from './type-urls.js';

const FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
];

/** Where the proto sources are: the four trees grpc-js-xds ships, then protobufjs' google/protobuf. */
export function protoDirs(): string[] {
  const xds = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
  return [
    ...['deps/envoy-api', 'deps/xds', 'deps/googleapis', 'deps/protoc-gen-validate'].map((d) => join(xds, d)),
    dirname(require.resolve('protobufjs/package.json')),
  ];
}

export interface EnvoyProtos {
  root: protobuf.Root;
  discoveryRequest: protobuf.Type;
  discoveryResponse: protobuf.Type;
  /** Decodes a google.protobuf.Any to a plain object (field names as in the proto, enums as names). */
  unpack(any: { type_url?: string; value?: Uint8Array }): Record<string, unknown>;
}

let loaded: Promise<EnvoyProtos> | null = null;

export function envoyProtos(): Promise<EnvoyProtos> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<EnvoyProtos> {
  const dirs = protoDirs();
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    for (const d of dirs) {
      const p = join(d, target);
      try {
        accessSync(p);
        return p;
      } catch {
        // not in this tree
      }
    }
    return protobuf.util.path.resolve(origin, target);
  };
  await root.load(FILES, { keepCase: true });
  const unpack = (any: { type_url?: string; value?: Uint8Array }): Record<string, unknown> => {
    const url = any.type_url ?? '';
    const name = url.slice(url.lastIndexOf('/') + 1);
    let type: protobuf.Type;
    try {
      type = root.lookupType(name);
    } catch {
      throw new Error(`unknown type "${url}"`);
    }
    return toPlain(type, type.decode(any.value ?? new Uint8Array()));
  };
  return {
    root,
    discoveryRequest: root.lookupType('envoy.service.discovery.v3.DiscoveryRequest'),
    discoveryResponse: root.lookupType('envoy.service.discovery.v3.DiscoveryResponse'),
    unpack,
  };
}

export function toPlain(type: protobuf.Type, message: protobuf.Message): Record<string, unknown> {
  return type.toObject(message, { enums: String, longs: Number, bytes: Buffer, defaults: false, oneofs: false, arrays: false }) as Record<string, unknown>;
}
