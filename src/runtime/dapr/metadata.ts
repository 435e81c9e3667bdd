/**
 * The sidecar's Dapr metadata, shared by the gRPC and HTTP APIs: the fixed facts and the extended
 * attributes apps set with `PUT /v1.0/metadata/{key}` or gRPC SetMetadata. A set on one worker is
 * broadcast to the others (node:worker_threads BroadcastChannel), so every connection reads the same
 * attributes whichever worker serves it.
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { DaprSettings } from '../../config/types.js';
import type { GetMetadataResponseMessage } from '../proto.js';

export const RUNTIME_VERSION = 'ringside-0.1.0';
const CHANNEL_NAME = 'ringside.dapr.metadata';

interface SetMessage {
  type: 'set';
  key: string;
  value: string;
}

export class DaprMetadataStore {
  readonly #settings: DaprSettings;
  readonly #extended = new Map<string, string>();
  readonly #channel: BroadcastChannel;

  constructor(settings: DaprSettings, workerIndex: number) {
    this.#settings = settings;
    this.#extended.set('ringside.worker', String(workerIndex));
    this.#extended.set('ringside.runtime', 'layotto-compatible');
    this.#channel = new BroadcastChannel(CHANNEL_NAME);
    // The channel must not keep a worker alive on its own.
    (this.#channel as unknown as { unref(): void }).unref();
    this.#channel.onmessage = (event: unknown) => {
      const msg = (event as { data: unknown }).data as SetMessage;
      if (msg !== null && typeof msg === 'object' && msg.type === 'set' && typeof msg.key === 'string' && typeof msg.value === 'string') {
        this.#extended.set(msg.key, msg.value);
      }
    };
  }

  /** Sets one extended attribute here and on every other worker. */
  set(key: string, value: string): void {
    this.#extended.set(key, value);
    const msg: SetMessage = { type: 'set', key, value };
    this.#channel.postMessage(msg);
  }

  snapshot(): GetMetadataResponseMessage {
    return {
      id: this.#settings.app_id,
      active_actors_count: [],
      registered_components: [],
      extended_metadata: Object.fromEntries(this.#extended),
      subscriptions: [],
      http_endpoints: [],
      app_connection_properties: { port: 0, protocol: 'http', channel_address: '', max_concurrency: 0 },
      runtime_version: RUNTIME_VERSION,
      enabled_features: [],
      actor_runtime: { runtime_status: 1, active_actors: [], host_ready: false, placement: '' },
    };
  }

  /** The JSON shape of Dapr's HTTP `GET /v1.0/metadata`. */
  json(): object {
    const md = this.snapshot();
    return {
      id: md.id,
      runtimeVersion: md.runtime_version,
      enabledFeatures: md.enabled_features,
      actors: [],
      components: md.registered_components,
      extended: md.extended_metadata,
      subscriptions: [],
      httpEndpoints: [],
      appConnectionProperties: { protocol: 'http' },
      actorRuntime: { runtimeStatus: 'DISABLED', activeActors: [], hostReady: false, placement: '' },
    };
  }

  close(): void {
    this.#channel.close();
  }
}
