/**
 * EXTENSIONS — how an extension (network filter, listener filter, stream filter, codec, load
 * balancer, cluster type, channel protocol, invoker filter …) tells the config loader what it accepts.
 *
 *   src/extensions.ts (composition root)
 *     registry.register(name, factory, spec) ─▶ ConfigCatalog ─▶ loader (main thread, before any worker)
 *                                                                 ├─ unknown name      → error at `…type`
 *                                                                 ├─ spec.schema       → errors / warnings with paths
 *                                                                 └─ spec.check(refs)  → cross-reference errors
 *
 * A spec's schema is built twice from one function (a strict copy whose unknown keys become warnings,
 * a stripping copy that yields the normalized value), which is why it receives a ConfigKit.
 */
import type { z } from 'zod';

/** One thing wrong with a config, at one place. */
export interface ConfigIssue {
  /** JSON path such as `servers[0].listeners[1].filter_chains[0].filters[0].config.cluster`; '' is the root. */
  path: string;
  message: string;
}

/** Builds both copies of a schema from one definition. */
export interface ConfigKit {
  readonly strict: boolean;
  /** z.object in the data copy, z.strictObject in the lint copy; the output type is the same. */
  obj<S extends z.core.$ZodLooseShape>(shape: S): z.ZodObject<S, z.core.$strip>;
}

/**
 * A key Ringside accepts and does not act on, by location (a path with indices written `[]`, '*'
 * matches any key). `quietWhenEmpty` skips the warning for values that configure nothing.
 */
export interface IgnoredKey {
  reason: string;
  quietWhenEmpty?: boolean;
}
export type IgnoredTable = Readonly<Record<string, Readonly<Record<string, IgnoredKey>>>>;

/** Names a config may refer to, for cross-reference checks. */
export interface NameSet {
  has(name: string): boolean;
  names(): readonly string[];
}

/** What cross-reference checks can look up: what the file defines and what the build registers. */
export interface ConfigRefs {
  readonly listeners: NameSet;
  readonly routers: NameSet;
  readonly clusters: NameSet;
  readonly catalog: ConfigCatalog;
}

/** What one extension accepts as its `config`. */
export interface ConfigSpec<T = unknown> {
  /** The config's zod schema, defaults included; absent config is validated as `{}`. */
  readonly schema: (k: ConfigKit) => z.ZodType<T>;
  /** Keys accepted without effect inside this config, relative to it ('' is the config itself). */
  readonly ignored?: IgnoredTable;
  /** Checks that need the rest of the file (router, cluster, listener names); `path` is the config's. */
  readonly check?: (config: T, path: string, refs: ConfigRefs) => ConfigIssue[];
  /** Valid values that have no effect, each warned as `json.path: reason` by the loader. */
  readonly warn?: (config: T, path: string) => string[];
}

/** A registry's names and the spec registered with each (undefined: the extension takes no config). */
export interface SpecTable {
  has(name: string): boolean;
  names(): readonly string[];
  spec(name: string): ConfigSpec | undefined;
}

/** A registry of one kind of extension by name (src/common/registry.ts implements it). */
export interface ExtensionRegistry<T> extends SpecTable {
  readonly kind: string;
  register<C>(name: string, entry: T, spec?: ConfigSpec<C>): void;
  get(name: string): T | undefined;
  /** Like get, but throws an error that lists what is known. */
  require(name: string): T;
}

/** Everything the build registers, as the main thread's loader sees it. */
export interface ConfigCatalog<Config = unknown> {
  readonly networkFilters: SpecTable;
  readonly listenerFilters: SpecTable;
  readonly streamFilters: SpecTable;
  /** Codecs with a server side (`proxy.downstream_protocol`), plus `Auto`. */
  readonly downstreamProtocols: NameSet;
  /** Codecs with an upstream client (`proxy.upstream_protocol`, route `upstream_protocol`). */
  readonly upstreamProtocols: NameSet;
  /** The request-id codecs (bolt, boltv2, dubbo): `X` + extend_config.sub_protocol names one; they carry only their own frames. */
  readonly xprotocols?: NameSet;
  readonly loadBalancers: NameSet;
  readonly clusterTypes: NameSet;
  readonly channels: SpecTable;
  readonly beforeInvoke: SpecTable;
  readonly afterInvoke: SpecTable;
  /**
   * Builds, without starting anything, the parts every worker builds from the whole validated config
   * (routers, clusters, hosts, health checkers); whatever that refuses is a config error at its path,
   * so a config the loader accepts cannot fail a worker's build. Called only once the rest is valid.
   */
  dryBuild?(config: Config): ConfigIssue[];
}
