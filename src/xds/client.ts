/**
 * The ADS client (Envoy xDS v3, state of the world, one aggregated gRPC stream over grpc-js):
 *
 *   connect ─▶ request CDS and LDS (wildcard) ─▶ responses queue (latest per type: a flood coalesces)
 *   ─▶ per response: decode → convert → validate with the file (src/config) → accept or NACK
 *   ─▶ the accepted state applied once for the batch on every worker (the reload path) ─▶ ACK
 *   ─▶ RDS / EDS subscriptions follow what the listeners and clusters name
 *
 * A NACK carries the version last accepted, the response's nonce and error_detail naming the
 * resource and field; the last good config keeps serving. The stream is re-opened with backoff
 * (500 ms doubling to 30 s, reset by a response); while it is down nothing changes.
 */
import * as grpc from '@grpc/grpc-js';
import { logger } from '../common/log.js';
import { TYPE, envoyProtos, type EnvoyProtos, type ResourceType } from './protos.js';
import { XdsResourceError, compose, copyState, shortType, type Composed, type DynamicFragments, type XdsState, emptyState } from './compose.js';

const log = logger('xds');

const ADS_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** Responses are processed in this order, so clusters exist before the routes that name them. */
const ORDER: ResourceType[] = [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route];
/** google.rpc.Code INVALID_ARGUMENT, as Envoy sets on a NACK. */
const INVALID_ARGUMENT = 3;

type Obj = Record<string, unknown>;

export interface XdsApplier {
  /** Validates the config the fragments make with the file; null when valid, else why not. */
  validate(fragments: DynamicFragments): string | null;
  /** Puts it in force on every worker; null on success, else why it failed. */
  apply(fragments: DynamicFragments): Promise<string | null>;
}

export interface XdsClientOptions {
  /** host:port of the control plane. */
  server: string;
  node: Obj;
  nodeOnFirstMessageOnly: boolean;
  lds: boolean;
  cds: boolean;
  applier: XdsApplier;
  /** Channel credentials; insecure by default. */
  credentials?: grpc.ChannelCredentials;
}

export interface XdsStats {
  connected: boolean;
  /** Responses accepted / rejected, by short type name (Listener, RouteConfiguration, …). */
  accepted: Record<string, number>;
  rejected: Record<string, number>;
  /** version_info last accepted, by short type name. */
  versions: Record<string, string>;
  /** Listeners waiting for their RouteConfiguration. */
  warming: string[];
}

interface Response {
  version_info?: string;
  resources?: { type_url?: string; value?: Uint8Array }[];
  type_url?: string;
  nonce?: string;
}

export class XdsClient {
  readonly #opts: XdsClientOptions;
  #protos: EnvoyProtos | null = null;
  #client: grpc.Client | null = null;
  #call: grpc.ClientDuplexStream<Obj, Response> | null = null;
  #state: XdsState = emptyState();
  /** Names subscribed per type ([] = wildcard for LDS / CDS). */
  readonly #names = new Map<ResourceType, string[]>();
  readonly #versions = new Map<ResourceType, string>();
  readonly #nonces = new Map<ResourceType, string>();
  /** Latest unprocessed response per type. */
  readonly #pending = new Map<ResourceType, Response>();
  #processing = false;
  #sentNode = false;
  #backoff = BACKOFF_BASE_MS;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  readonly #stats: XdsStats = { connected: false, accepted: {}, rejected: {}, versions: {}, warming: [] };
  /** Resolves after the next batch was processed (tests and start-up wait on it). */
  #idle: (() => void)[] = [];

  constructor(opts: XdsClientOptions) {
    this.#opts = opts;
    if (opts.cds) this.#names.set(TYPE.cluster, []);
    if (opts.lds) this.#names.set(TYPE.listener, []);
  }

  stats(): XdsStats {
    return structuredClone(this.#stats);
  }

  async start(): Promise<void> {
    this.#protos = await envoyProtos();
    this.#client = new grpc.Client(this.#opts.server, this.#opts.credentials ?? grpc.credentials.createInsecure());
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#call?.cancel();
    this.#call = null;
    this.#client?.close();
  }

  #connect(): void {
    if (this.#stopped || this.#client === null || this.#protos === null) return;
    const p = this.#protos;
    const call = this.#client.makeBidiStreamRequest<Obj, Response>(
      ADS_METHOD,
      (req) => Buffer.from(p.discoveryRequest.encode(p.discoveryRequest.fromObject(req)).finish()),
      (buf) => p.discoveryResponse.toObject(p.discoveryResponse.decode(buf), { longs: Number, defaults: false }) as Response,
    );
    this.#call = call;
    this.#sentNode = false;
    let ended = false;
    const end = (why: string): void => {
      if (ended) return;
      ended = true;
      if (this.#call === call) this.#call = null;
      this.#stats.connected = false;
      if (this.#stopped) return;
      const delay = this.#backoff;
      this.#backoff = Math.min(BACKOFF_MAX_MS, this.#backoff * 2);
      log.warn(`ADS stream to ${this.#opts.server} ended (${why}); the last accepted config keeps serving; reconnecting in ${delay} ms`);
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#connect();
      }, delay);
      this.#timer.unref();
    };
    call.on('data', (res: Response) => {
      this.#backoff = BACKOFF_BASE_MS;
      this.#stats.connected = true;
      const type = res.type_url as ResourceType;
      if (!this.#names.has(type)) {
        log.warn(`ignoring a response of type ${res.type_url} that was not subscribed`);
        return;
      }
      this.#nonces.set(type, res.nonce ?? '');
      this.#pending.set(type, res); // a newer response of the same type supersedes an unprocessed one
      void this.#drain();
    });
    call.on('error', (err: Error) => end(err.message));
    call.on('end', () => end('the server closed it'));
    for (const type of ORDER) if (this.#names.has(type)) this.#send(type);
  }

  #send(type: ResourceType, errorDetail?: string): void {
    const call = this.#call;
    if (call === null) return;
    const req: Obj = {
      version_info: this.#versions.get(type) ?? '',
      resource_names: this.#names.get(type) ?? [],
      type_url: type,
      response_nonce: this.#nonces.get(type) ?? '',
    };
    if (!this.#sentNode || !this.#opts.nodeOnFirstMessageOnly) req['node'] = this.#opts.node;
    this.#sentNode = true;
    if (errorDetail !== undefined) req['error_detail'] = { code: INVALID_ARGUMENT, message: errorDetail };
    call.write(req);
  }

  /** Processes queued responses in batches: each validated alone, the batch applied once. */
  async #drain(): Promise<void> {
    if (this.#processing) return;
    this.#processing = true;
    try {
      while (this.#pending.size > 0) {
        const batch = ORDER.filter((t) => this.#pending.has(t)).map((t) => [t, this.#pending.get(t)!] as const);
        this.#pending.clear();
        await this.#process(batch);
      }
    } finally {
      this.#processing = false;
      for (const r of this.#idle.splice(0)) r();
    }
  }

  async #process(batch: readonly (readonly [ResourceType, Response])[]): Promise<void> {
    const protos = this.#protos!;
    let candidate = copyState(this.#state);
    let composed: Composed | null = null;
    const accepted: [ResourceType, Response][] = [];
    for (const [type, res] of batch) {
      const trial = copyState(candidate);
      const problem = this.#merge(trial, type, res, protos);
      let detail = problem;
      let next: Composed | null = null;
      if (detail === null) {
        try {
          next = compose(trial, protos);
          detail = this.#opts.applier.validate(next.fragments);
        } catch (err) {
          detail = err instanceof XdsResourceError ? err.message : err instanceof Error ? err.message : String(err);
        }
      }
      if (detail !== null) {
        this.#reject(type, res, detail);
        continue;
      }
      candidate = trial;
      composed = next;
      accepted.push([type, res]);
    }
    if (composed === null) return;
    const failure = await this.#opts.applier.apply(composed.fragments);
    if (failure !== null) {
      for (const [type, res] of accepted) this.#reject(type, res, `could not apply: ${failure}`);
      return;
    }
    this.#state = candidate;
    this.#stats.warming = composed.warming;
    for (const w of composed.warnings) log.warn(w);
    for (const [type, res] of accepted) {
      this.#versions.set(type, res.version_info ?? '');
      this.#stats.versions[shortType(type)] = res.version_info ?? '';
      this.#stats.accepted[shortType(type)] = (this.#stats.accepted[shortType(type)] ?? 0) + 1;
      this.#send(type);
      log.info(`accepted ${shortType(type)} version ${res.version_info ?? ''} (${res.resources?.length ?? 0} resource(s))`);
    }
    this.#follow(TYPE.route, composed.rds);
    this.#follow(TYPE.endpoint, composed.eds);
  }

  /** Puts a response's resources into `state`; a message when one cannot be decoded. */
  #merge(state: XdsState, type: ResourceType, res: Response, protos: EnvoyProtos): string | null {
    const decoded = new Map<string, Obj>();
    for (const [i, any] of (res.resources ?? []).entries()) {
      if (any.type_url !== type) return `resources[${i}]: type ${String(any.type_url)} in a ${shortType(type)} response`;
      let r: Obj;
      try {
        r = protos.unpack(any);
      } catch (err) {
        return `resources[${i}]: cannot decode: ${(err as Error).message}`;
      }
      const name = typeof r['name'] === 'string' ? r['name'] : typeof r['cluster_name'] === 'string' ? r['cluster_name'] : '';
      if (name === '') return `resources[${i}]: a resource needs a name`;
      decoded.set(name, r);
    }
    const map = type === TYPE.listener ? 'listeners' : type === TYPE.route ? 'routes' : type === TYPE.cluster ? 'clusters' : 'endpoints';
    if (type === TYPE.listener || type === TYPE.cluster) {
      state[map] = decoded; // state of the world: a name left out is a resource removed
    } else {
      for (const [name, r] of decoded) state[map].set(name, r);
    }
    return null;
  }

  #reject(type: ResourceType, res: Response, detail: string): void {
    this.#stats.rejected[shortType(type)] = (this.#stats.rejected[shortType(type)] ?? 0) + 1;
    log.warn(`rejected ${shortType(type)} version ${res.version_info ?? ''}: ${detail}; version ${this.#versions.get(type) ?? '(none)'} stays in force`);
    this.#send(type, detail);
  }

  /** Follows the RDS / EDS names the accepted listeners and clusters need; drops what is no longer named. */
  #follow(type: ResourceType, names: string[]): void {
    const map = type === TYPE.route ? this.#state.routes : this.#state.endpoints;
    for (const name of [...map.keys()]) if (!names.includes(name)) map.delete(name);
    const now = this.#names.get(type);
    if (names.length === 0 && now === undefined) return;
    if (now !== undefined && now.join('\u0000') === names.join('\u0000')) return;
    this.#names.set(type, names);
    this.#send(type);
  }

  /** Resolves once the queue is empty (after the batch in progress, if any). */
  settled(): Promise<void> {
    if (!this.#processing && this.#pending.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }
}
