/**
 * A small ADS control plane for tests, on grpc-js with the Envoy protos @grpc/grpc-js-xds ships:
 * state of the world per node id; every DiscoveryRequest is recorded (version, nonce, error_detail,
 * names) so a test can wait for the ACK or NACK of a push.
 */
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { envoyProtos, type EnvoyProtos } from '../../src/xds/protos.js';

type Obj = Record<string, unknown>;

export interface SeenRequest {
  node?: string;
  type: string;
  version: string;
  nonce: string;
  names: string[];
  error?: string;
}

interface Stream {
  node: string;
  call: grpc.ServerDuplexStream<Obj, Obj>;
  subscribed: Map<string, string[]>;
}

export class AdsServer {
  readonly #server = new grpc.Server();
  readonly seen: SeenRequest[] = [];
  /** resources[node][typeUrl] = { version, resources (messages by name) } */
  readonly #resources = new Map<string, Map<string, { version: string; items: Map<string, Obj> }>>();
  readonly #streams = new Set<Stream>();
  #nonce = 0;
  #waiters: (() => void)[] = [];
  protos!: EnvoyProtos;
  address = '';

  async start(): Promise<void> {
    this.protos = await envoyProtos();
    const req = this.protos.discoveryRequest;
    const res = this.protos.discoveryResponse;
    this.#server.addService(
      {
        StreamAggregatedResources: {
          path: '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
          requestStream: true,
          responseStream: true,
          requestSerialize: (m: Obj) => Buffer.from(req.encode(req.fromObject(m)).finish()),
          requestDeserialize: (b: Buffer) => req.toObject(req.decode(b), { defaults: true }) as Obj,
          responseSerialize: (m: Obj) => Buffer.from(res.encode(res.fromObject(m)).finish()),
          responseDeserialize: (b: Buffer) => res.toObject(res.decode(b)) as Obj,
        },
      },
      { StreamAggregatedResources: (call: grpc.ServerDuplexStream<Obj, Obj>) => this.#serve(call) },
    );
    const port = await new Promise<number>((resolve, reject) =>
      this.#server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.address = `127.0.0.1:${port}`;
  }

  stop(): void {
    this.#server.forceShutdown();
  }

  /** Encodes `message` of Envoy type `typeName` (e.g. envoy.config.listener.v3.Listener) as an Any. */
  any(typeName: string, message: Obj): Obj {
    const t: protobuf.Type = this.protos.root.lookupType(typeName);
    return { type_url: `type.googleapis.com/${typeName}`, value: t.encode(t.fromObject(message)).finish() };
  }

  /** Sets the state of the world of one type for one node and pushes it to that node's streams. */
  push(node: string, typeUrl: string, version: string, items: { name: string; any: Obj }[]): string {
    let byType = this.#resources.get(node);
    if (byType === undefined) this.#resources.set(node, (byType = new Map()));
    byType.set(typeUrl, { version, items: new Map(items.map((i) => [i.name, i.any])) });
    let nonce = '';
    for (const s of this.#streams) if (s.node === node && s.subscribed.has(typeUrl)) nonce = this.#send(s, typeUrl);
    return nonce;
  }

  /** Resolves with the first request matching `pred` (already seen or yet to come). */
  async waitFor(pred: (r: SeenRequest) => boolean, timeoutMs = 10_000): Promise<SeenRequest> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.seen.find(pred);
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) throw new Error(`no matching DiscoveryRequest; seen: ${JSON.stringify(this.seen.slice(-8))}`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  #serve(call: grpc.ServerDuplexStream<Obj, Obj>): void {
    const stream: Stream = { node: '', call, subscribed: new Map() };
    this.#streams.add(stream);
    call.on('data', (r: Obj) => {
      const node = r['node'] as Obj | null | undefined;
      if (node !== undefined && node !== null && typeof node['id'] === 'string' && node['id'] !== '') stream.node = node['id'];
      const type = String(r['type_url']);
      const names = (r['resource_names'] as string[] | undefined) ?? [];
      const detail = r['error_detail'] as Obj | undefined;
      this.seen.push({
        node: stream.node,
        type,
        version: String(r['version_info'] ?? ''),
        nonce: String(r['response_nonce'] ?? ''),
        names,
        ...(detail !== undefined && detail !== null && typeof detail['message'] === 'string' && detail['message'] !== '' ? { error: detail['message'] } : {}),
      });
      for (const w of this.#waiters.splice(0)) w();
      const before = stream.subscribed.get(type);
      stream.subscribed.set(type, names);
      // A first request for a type, or a change of names, gets the current state at once.
      if (before === undefined || before.join(',') !== names.join(',')) this.#send(stream, type);
    });
    call.on('error', () => this.#streams.delete(stream));
    call.on('end', () => {
      this.#streams.delete(stream);
      call.end();
    });
  }

  #send(s: Stream, typeUrl: string): string {
    const state = this.#resources.get(s.node)?.get(typeUrl);
    if (state === undefined) return '';
    const names = s.subscribed.get(typeUrl) ?? [];
    const items = [...state.items.entries()].filter(([name]) => names.length === 0 || names.includes(name)).map(([, any]) => any);
    const nonce = String(++this.#nonce);
    s.call.write({ version_info: state.version, resources: items, type_url: typeUrl, nonce });
    return nonce;
  }
}
