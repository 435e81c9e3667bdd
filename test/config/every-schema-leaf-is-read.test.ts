/**
 * Every key the config schema accepts is acted on. The test walks the zod schema (core and every
 * registered extension's spec) for its input keys, checks that test/fixtures/config/every-key.json
 * sets each one (stream filters' specs included), loads that file, and runs the code that consumes a config — the main thread's
 * start settings and xDS bootstrap, a worker's scheduler and offload settings, and a whole worker data plane built and
 * started in this thread — over a config wrapped to record which normalized keys are read. Each
 * normalized leaf must be read. Keys a config may carry without effect are not in the schema: they
 * are in the one table of accepted-but-not-acted-on keys (src/config/ignored.ts and each spec's
 * `ignored`), which the loader warns about with their path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { buildSchemas } from '../../src/config/schema.js';
import { observeParsedConfigs } from '../../src/config/filters.js';
import { specPair } from '../../src/config/kit.js';
import { parseConfig } from '../../src/config/load.js';
import { configCatalog, createExtensions } from '../../src/extensions.js';
import { assembleDataplane } from '../../src/assembly.js';
import { ActorRunLoop } from '../../src/actor/run-loop.js';
import { schedulerSettingsFrom } from '../../src/actor/scheduler.js';
import { offloadThreadsFrom } from '../../src/worker/offload.js';
import { startSettingsOf } from '../../src/cli/start.js';
import { xdsBootstrapOf } from '../../src/xds/bootstrap.js';
import type { ConfigSpec } from '../../src/types/extension.js';
import { fixture } from './helpers.js';
import { schemaLeaves } from './schema-keys.js';
import { configuredResourceLimits } from '../../src/supervisor/heap-limits.js';

/** Key paths a JSON value sets, in the same `[]` form. */
function jsonPaths(v: unknown, base: string, out: Set<string>): void {
  if (Array.isArray(v)) {
    if (v.length === 0 || v.every((e) => e === null || typeof e !== 'object')) out.add(base);
    for (const e of v) if (e !== null && typeof e === 'object') jsonPaths(e, `${base}[]`, out);
    return;
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    if (entries.length === 0) out.add(base);
    for (const [k, e] of entries) jsonPaths(e, base === '' ? k : `${base}.${k}`, out);
    return;
  }
  out.add(base);
}

/** Wraps a normalized value; every property read is recorded as a `[]`-form path. */
function recording<T>(value: T, base: string, reads: Set<string>, stopAt: (path: string) => boolean): T {
  if (value === null || typeof value !== 'object') return value;
  return new Proxy(value as object, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key === 'symbol' || typeof v === 'function') return v;
      const path = Array.isArray(target) ? (/^\d+$/.test(key) ? `${base}[]` : `${base}.${key}`) : base === '' ? key : `${base}.${key}`;
      if (Array.isArray(target) && !/^\d+$/.test(key)) return v;
      reads.add(path);
      return stopAt(path) ? v : recording(v, path, reads, stopAt);
    },
  }) as T;
}

/** Normalized leaves of a parsed value (objects descended, arrays of primitives and empties are leaves). */
function valueLeaves(v: unknown, base: string, out: Set<string>): void {
  jsonPaths(v, base, out);
}

/** Derived fields the loader adds (not user keys): the parsed address, filter paths, the checker kind. */
const DERIVED = /\.endpoint(\.|$)|(filters|stream_filters|listener_filters)\[\]\.path$|health_check\.kind$/;

/**
 * Read per Dapr call, not while the data plane is built: the resiliency policies are looked up by
 * target app when a call arrives, and the gRPC proxy channel is made on the first proxied call
 * (test/runtime covers both), so building a worker reads none of them.
 */
const READ_PER_CALL = /^ringside\.(resiliency|dapr\.grpc_proxy)\./;

/**
 * Keys the loader itself acts on while normalizing, so no layer reads them afterwards: `network`
 * decides how the address parses into `endpoint`, a health check's `protocol` decides its `kind`,
 * and the mosn invoker's `type` may only be "mosn".
 */
const USED_BY_THE_LOADER = new Set([
  'servers[].listeners[].network',
  'cluster_manager.clusters[].health_check.protocol',
  'servers[].listeners[].filter_chains[].filters[].config<grpc>.grpc_config.rpcs.mosn.type',
  // Envoy's type URL of a compression library: the loader refuses one that names another library.
  'servers[].listeners[].stream_filters[].config<decompressor>.decompressor_library.typed_config.@type',
  // xDS bootstrap enums with one accepted value (GRPC, V3): the loader refuses any other.
  'dynamic_resources.ads_config.api_type',
  'dynamic_resources.ads_config.transport_api_version',
  'dynamic_resources.lds_config.resource_api_version',
  'dynamic_resources.cds_config.resource_api_version',
]);

test('every schema key is set by the fixture, and every normalized key is read by the code that consumes it', async () => {
  const ext = createExtensions();
  const catalog = configCatalog(ext);
  const raw = JSON.parse(readFileSync(fixture('every-key.json'), 'utf8')) as unknown;

  // 1. The fixture exercises every key of the core schema and of each extension spec it uses.
  const leaves = new Set<string>();
  schemaLeaves(buildSchemas(false, { workers: 1, daprGrpcPort: 1, daprHttpPort: 1, daprApiToken: undefined }, catalog).config, '', leaves);
  const set = new Set<string>();
  jsonPaths(raw, '', set);
  const filterBase = 'servers[].listeners[].filter_chains[].filters[].config';
  const streamFilterBase = 'servers[].listeners[].stream_filters[].config';
  for (const type of ['proxy', 'tcp_proxy', 'grpc']) {
    const specLeaves = new Set<string>();
    schemaLeaves(specPair(catalog.networkFilters.spec(type)!).data, '', specLeaves);
    for (const l of specLeaves) leaves.add(`${filterBase}<${type}>.${l}`);
  }
  for (const type of catalog.streamFilters.names()) {
    const specLeaves = new Set<string>();
    schemaLeaves(specPair(catalog.streamFilters.spec(type)!).data, '', specLeaves);
    for (const l of specLeaves) leaves.add(`${streamFilterBase}<${type}>.${l}`);
  }
  const typed = new Set<string>();
  type RawFilter = { type: string; config: unknown };
  (raw as { servers: { listeners: { filter_chains: { filters: RawFilter[] }[]; stream_filters?: RawFilter[] }[] }[] }).servers.forEach((s) =>
    s.listeners.forEach((l) => {
      l.filter_chains.forEach((c) => c.filters.forEach((f) => jsonPaths(f.config, `${filterBase}<${f.type}>`, typed)));
      l.stream_filters?.forEach((f) => jsonPaths(f.config, `${streamFilterBase}<${f.type}>`, typed));
    }),
  );
  // Raw extension configs are checked through their specs' keys (the `<type>` entries) instead.
  const rawConfigs = /(filters|stream_filters|listener_filters)\[\]\.config$/;
  // Nothing is registered as a listener filter or an after_invoke callback yet, so any entry there
  // is a config error and the fixture cannot hold one.
  const unregistered = /listener_filters\[\]|after_invoke\[\]/;
  // A record's keys are the user's names (policy names): set when anything sits under it.
  const isSet = (l: string): boolean => set.has(l) || typed.has(l) || [...set, ...typed].some((p) => p.startsWith(`${l}.`));
  const notSet = [...leaves].filter((l) => !rawConfigs.test(l) && !unregistered.test(l) && !isSet(l));
  assert.deepEqual(notSet, [], 'schema keys the fixture does not set (add them to every-key.json)');

  // 2. Load it; read it through the consumers, recording what they read.
  // The demo upstream and the Dapr ports bind when enabled: give them free ports.
  const freePort = async (): Promise<number> => {
    const free = net.createServer().listen(0, '127.0.0.1');
    await once(free, 'listening');
    const port = (free.address() as net.AddressInfo).port;
    free.close();
    await once(free, 'close');
    return port;
  };
  const ringside = (raw as { ringside: { demo_upstream: Record<string, unknown>; dapr: Record<string, unknown> } }).ringside;
  ringside.demo_upstream = { enabled: true, address: `127.0.0.1:${await freePort()}` };
  Object.assign(ringside.dapr, { enabled: true, grpc_port: await freePort(), http_port: await freePort() });
  const { config } = parseConfig(raw, 'every-key.json', { env: {}, cores: 1, catalog });
  const reads = new Set<string>();
  const parsed: { base: string; value: unknown }[] = [];
  const baseOfSpec = new Map<ConfigSpec, string>([
    ...catalog.networkFilters.names().map((n): [ConfigSpec, string] => [catalog.networkFilters.spec(n)!, `${filterBase}<${n}>`]),
    ...catalog.streamFilters.names().map((n): [ConfigSpec, string] => [catalog.streamFilters.spec(n)!, `${streamFilterBase}<${n}>`]),
  ]);
  observeParsedConfigs((spec, value) => {
    const base = baseOfSpec.get(spec);
    if (base === undefined) return value;
    parsed.push({ base, value });
    return recording(value, base, reads, () => false);
  });
  const isRawFilterConfig = (p: string): boolean => /filters\[\]\.config$/.test(p);
  const watched = recording(config, '', reads, isRawFilterConfig);
  try {
    startSettingsOf(watched);
    xdsBootstrapOf(watched, 'every-key.json');
    schedulerSettingsFrom(watched.ringside);
    configuredResourceLimits(watched);
    offloadThreadsFrom(watched.ringside);
    const network = assembleDataplane({ workerIndex: 0, workerCount: 1, config: watched, worker: { runLoop: new ActorRunLoop() } }, ext);
    await network.start([]);
    await network.stopAccepting();
    network.closeConnections('test over');
  } finally {
    observeParsedConfigs(undefined);
  }

  // 3. Every normalized leaf — core and parsed extension configs — was read.
  const normalized = new Set<string>();
  valueLeaves(JSON.parse(JSON.stringify(config)), '', normalized);
  for (const p of parsed) valueLeaves(JSON.parse(JSON.stringify(p.value)), p.base, normalized);
  // Raw extension configs are covered by their parsed values (the `<type>` entries).
  const unread = [...normalized].filter((l) => !DERIVED.test(l) && !USED_BY_THE_LOADER.has(l) && !READ_PER_CALL.test(l) && !reads.has(l) && !/(filters|stream_filters|listener_filters)\[\]\.config(\.|$)/.test(l) && !unregistered.test(l));
  assert.deepEqual(
    unread,
    [],
    'normalized config keys no layer reads: implement them, or move them to the accepted-but-not-acted-on table',
  );
});
