/**
 * What the runtime API (RuntimeHost) needs from the worker it runs on, handed over at the composition
 * root (src/assembly.ts). Kept beside the runtime rather than in src/types because it carries the
 * validated `ringside.resiliency` section, whose type is derived from that section's zod schema.
 */
import type { PlacementAdvisor } from '../types/actor.js';
import type { ExtensionRegistry } from '../types/extension.js';
import type { RingEndpoint } from '../types/ring.js';
import type { GrpcStreamFilter, InvokerFilterRegistries } from '../types/runtime.js';
import type { DaprSettings } from '../config/types.js';
import type { ChannelFactory } from './channel/factory.js';
import type { ResiliencyConfig } from './resiliency/schema.js';
import type { OffloadRunner } from '../types/offload.js';
import type { Http2Settings } from '../types/http2.js';
import type { GrpcClusterSource } from '../types/grpc.js';

/** Everything the runtime API needs from the worker, handed over at the composition root. */
export interface RuntimeEnv {
  readonly workerIndex: number;
  readonly dialInProcess: ((name: string) => RingEndpoint) | undefined;
  /** Re-placement advice for in-process channel connections (the worker's scheduler). */
  readonly placement?: PlacementAdvisor | undefined;
  readonly invokerFilters: InvokerFilterRegistries;
  readonly channels: ExtensionRegistry<ChannelFactory>;
  readonly maxGrpcMessageBytes: number;
  /** `ringside.http2`: our side's HTTP/2 limits on the runtime's upstream gRPC channels. */
  readonly http2?: Partial<Http2Settings>;
  /** The worker's clusters and load balancers, handed to channels (`grpc` with ext.cluster). */
  readonly clusters?: GrpcClusterSource;
  /** The worker's offload pool, handed to channels (large JSON transcoding). */
  readonly offload?: OffloadRunner | undefined;
  readonly dapr: DaprSettings;
  /** Head and keep-alive bounds of the Dapr HTTP port (ms, 0 = none); absent: 10 s and 60 s. */
  readonly daprHttpTimeouts?: { readonly headersMs: number; readonly idleMs: number };
  /** Stream filters for calls to a runtime server (MOSN: the stream filter chain of its listener). */
  readonly grpcStreamFilters?: (serverName: string) => readonly GrpcStreamFilter[];
  /** Starts the sidecar's graceful shutdown (Dapr's Shutdown API; SIGTERM to the process in ringside start). */
  readonly requestShutdown: () => void;
  /** `ringside.resiliency`: Dapr resiliency policies for invokes on the Dapr APIs. */
  readonly resiliency?: ResiliencyConfig;
  /** Head limits of the Dapr HTTP port (`ringside.limits`: max_header_bytes, max_request_line_bytes). */
  readonly maxHeaderBytes?: number;
  readonly maxRequestLineBytes?: number;
}
