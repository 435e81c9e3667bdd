/**
 * Where `ringside start` gets its config: a file (-c) or the embedded default, loaded and validated
 * by src/config through the build's catalog of extensions (src/extensions.ts). At start-up a
 * prewarmed data-plane thread runs this loader for the main thread (src/supervisor/config-check.ts);
 * `--check`, reloads and xDS updates run it here, on the main thread, loading it on first use. Kept apart from the CLI so the supervisor's tests can start from the same path.
 *
 * With a control plane, the config in force is the file plus what xDS contributes (listeners,
 * routers, clusters appended to `servers[0]` and `cluster_manager`), validated as one document by
 * the same loader: a reload re-reads the file and keeps the xDS part; an xDS update keeps the file.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, defaultConfig, defaultConfigJson, loadConfigFile, parseConfig, DEFAULT_CONFIG_SOURCE } from '../config/index.js';
import { configCatalog } from '../extensions.js';
import type { LoadedConfig } from '../config/types.js';
import type { ConfigIssue } from '../types/extension.js';
import { emptyFragments, shortType, type DynamicFragments, type Origin } from '../xds/compose.js';

export type { LoadedConfig };

/**
 * Throws src/config's ConfigError (with `.issues`, each a JSON path and a reason) for an invalid
 * config; the CLI turns that into exit code 2 with one `path: reason` line per issue.
 */
export function loadStartConfig(file: string | undefined, env?: Readonly<Record<string, string | undefined>>): LoadedConfig {
  const opts = { catalog: mainCatalog(), ...(env !== undefined ? { env } : {}) };
  return file === undefined ? defaultConfig(opts) : loadConfigFile(file, opts);
}

let catalog: ReturnType<typeof configCatalog> | undefined;

/** One catalog for every load on this thread, so the loader's schemas are built once (src/config/load.ts). */
function mainCatalog(): ReturnType<typeof configCatalog> {
  return (catalog ??= configCatalog());
}

type Obj = Record<string, unknown>;

/** The file and the xDS fragments, composed and validated together. */
export class ConfigSource {
  readonly file: string | undefined;
  #dynamic: DynamicFragments = emptyFragments();

  constructor(file: string | undefined) {
    this.file = file;
  }

  /** The xDS fragments in force (the last ones applied). */
  get dynamic(): DynamicFragments {
    return this.#dynamic;
  }

  /** Records the fragments once the supervisor applied a config built with them. */
  commit(dynamic: DynamicFragments): void {
    this.#dynamic = dynamic;
  }

  /** Reads the file again and validates it with `dynamic` appended; throws ConfigError. */
  load(dynamic: DynamicFragments = this.#dynamic): LoadedConfig {
    const empty = dynamic.listeners.length + dynamic.routers.length + dynamic.clusters.length === 0;
    if (empty) return loadStartConfig(this.file);
    let raw: Obj;
    try {
      raw = this.file === undefined ? (structuredClone(defaultConfigJson) as unknown as Obj) : (JSON.parse(readFileSync(this.file, 'utf8')) as Obj);
    } catch {
      return loadStartConfig(this.file); // throws the loader's own error (line and column, unreadable file)
    }
    const { json, bases } = merge(raw, dynamic);
    try {
      return parseConfig(json, this.file ?? DEFAULT_CONFIG_SOURCE, { catalog: mainCatalog() });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new ConfigError(err.source, err.issues.map((i) => attribute(i, bases, dynamic)));
    }
  }
}

interface Bases {
  listeners: number;
  routers: number;
  clusters: number;
}

function merge(raw: Obj, d: DynamicFragments): { json: Obj; bases: Bases } {
  const json = structuredClone(raw);
  if (!Array.isArray(json['servers']) || json['servers'].length === 0) json['servers'] = [{}];
  const server = (json['servers'] as Obj[])[0]!;
  const listeners = Array.isArray(server['listeners']) ? (server['listeners'] as Obj[]) : [];
  const routers = Array.isArray(server['routers']) ? (server['routers'] as Obj[]) : [];
  const cm = (json['cluster_manager'] ?? {}) as Obj;
  const clusters = Array.isArray(cm['clusters']) ? (cm['clusters'] as Obj[]) : [];
  const bases = { listeners: listeners.length, routers: routers.length, clusters: clusters.length };
  server['listeners'] = [...listeners, ...structuredClone(d.listeners)];
  server['routers'] = [...routers, ...structuredClone(d.routers)];
  json['cluster_manager'] = { ...cm, clusters: [...clusters, ...structuredClone(d.clusters)] };
  return { json, bases };
}

/** An issue inside an xDS fragment names the resource it came from. */
function attribute(issue: ConfigIssue, bases: Bases, d: DynamicFragments): ConfigIssue {
  const m = /^(servers\[0\]\.(listeners|routers)|cluster_manager\.clusters)\[(\d+)\]/.exec(issue.path);
  if (m === null) return issue;
  const kind = (m[2] ?? 'clusters') as keyof Bases;
  const i = Number(m[3]) - bases[kind];
  const origin: Origin | undefined = i >= 0 ? d.origins[kind][i] : undefined;
  if (origin === undefined) return issue;
  return { path: issue.path, message: `${issue.message} (from ${shortType(origin.type)} "${origin.name}")`, ...({ origin } as object) };
}

/** The xDS resource an issue came from, if any. */
export function issueOrigin(issue: ConfigIssue): Origin | undefined {
  return (issue as { origin?: Origin }).origin;
}
