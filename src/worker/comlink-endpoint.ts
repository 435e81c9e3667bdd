/**
 * comlink over worker_threads MessagePorts, for both ends of WorkerControl (supervisor and worker).
 *
 * Why the shim: comlink's node adapter ships as a UMD file whose typings declare an ES default export,
 * while Node's ESM loader hands us `module.exports` itself as the default. Reading `.default` when it
 * is there and the module otherwise works under either interpretation.
 */
import * as Comlink from 'comlink';
import nodeAdapterModule from 'comlink/dist/umd/node-adapter.js';
import type { MessagePort } from 'node:worker_threads';

type NodeEndpointFn = typeof nodeAdapterModule.default;
type NodeEndpointArg = Parameters<NodeEndpointFn>[0];

const nodeEndpoint: NodeEndpointFn =
  ((nodeAdapterModule as { default?: unknown }).default as NodeEndpointFn | undefined) ??
  (nodeAdapterModule as unknown as NodeEndpointFn);

export function endpointOf(port: MessagePort): Comlink.Endpoint {
  // MessagePort's on/off are typed with Node listener signatures; the adapter only forwards them.
  return nodeEndpoint(port as unknown as NodeEndpointArg);
}

/** Worker side: serve `api` on `port`. */
export function exposeOn<T extends object>(api: T, port: MessagePort): void {
  Comlink.expose(api, endpointOf(port));
}

/** Supervisor side: a typed proxy whose calls travel over `port`. */
export function wrapPort<T>(port: MessagePort): Comlink.Remote<T> {
  return Comlink.wrap<T>(endpointOf(port));
}
