/**
 * Loads a Ringside config: JSON text → syntax check (line:column) → schema (normalized values,
 * unknown-key warnings) → cross-reference checks. Any error throws one ConfigError listing every
 * problem with its JSON path, so a user fixes a file in one pass; nothing is started before that.
 */
import { availableParallelism } from 'node:os';
import { closeSync, fstatSync, openSync, readSync, constants as fsConstants } from 'node:fs';
import type { LoadedConfig, RingsideConfig } from './types.js';
import type { ConfigCatalog } from '../types/extension.js';
import { DEFAULT_CONFIG_SOURCE, defaultConfigJson } from './default.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { CONFIG_IGNORED } from './ignored.js';
import { buildSchemas, type SettingsDefaults } from './schema.js';
import { assignFilterPaths, checkSemantics } from './semantic.js';
import { validate, valueAt, type SchemaPair } from './validate.js';
import { findJsonSyntaxProblem } from './json-syntax.js';

export { ConfigError } from './errors.js';
export type { LoadedConfig } from './types.js';

export interface ParseOptions {
  /** What the build registers (src/extensions.ts configCatalog()): every extension name and spec. */
  catalog: ConfigCatalog<RingsideConfig>;
  /** Where DAPR_GRPC_PORT, DAPR_HTTP_PORT and DAPR_API_TOKEN come from; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Default for ringside.workers; os.availableParallelism() by default. */
  cores?: number;
}

export function loadConfigFile(path: string, opts: ParseOptions): LoadedConfig {
  let text: string;
  try {
    text = readConfigText(path);
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }]);
  }
  return parseConfigText(text, path, opts);
}

/** Longest a FIFO or other stream may take to deliver the config before start-up gives up. */
const STREAM_READ_DEADLINE_MS = 10_000;
const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

/**
 * Reads a config file without ever blocking forever: the file is opened non-blocking, so a FIFO with
 * no writer opens at once (and reads as empty) instead of hanging start-up; a slow writer
 * (`-c <(generate-config)`) gets STREAM_READ_DEADLINE_MS.
 */
function readConfigText(path: string): string {
  const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new Error('it is a directory');
    const chunks: Buffer[] = [];
    let total = 0;
    const deadline = Date.now() + STREAM_READ_DEADLINE_MS;
    const chunk = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        if (Date.now() > deadline) throw new Error(`no data within ${STREAM_READ_DEADLINE_MS / 1000} s (a pipe whose writer never wrote?)`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      if (n === 0) break;
      total += n;
      if (total > MAX_CONFIG_BYTES) throw new Error(`larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB`);
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    if (total === 0 && !st.isFile()) throw new Error('nothing to read (a FIFO with no writer?)');
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Parses JSON text; a syntax error names its line and column. */
export function parseConfigText(text: string, source: string, opts: ParseOptions): LoadedConfig {
  // Editors on some systems save a byte-order mark; JSON.parse rejects it.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    const problem = findJsonSyntaxProblem(body);
    // The scanner and V8 agree on what JSON is; should they ever differ, V8's message still helps.
    const where = problem ?? { line: 1, column: 1, reason: (err as Error).message };
    throw new ConfigError(`${source}:${where.line}:${where.column}`, [
      { path: '', message: `invalid JSON at line ${where.line}, column ${where.column}: ${where.reason}` },
    ]);
  }
  return parseConfig(json, source, opts);
}

export function parseConfig(json: unknown, source: string, opts: ParseOptions): LoadedConfig {
  const env = opts.env ?? process.env;
  const envIssues: ConfigIssue[] = [];
  const defaults: SettingsDefaults = {
    workers: opts.cores ?? availableParallelism(),
    daprGrpcPort: envPort(env, 'DAPR_GRPC_PORT', 50001, json, 'grpc_port', envIssues),
    daprHttpPort: envPort(env, 'DAPR_HTTP_PORT', 3500, json, 'http_port', envIssues),
    daprApiToken: env['DAPR_API_TOKEN'] === '' ? undefined : env['DAPR_API_TOKEN'],
  };
  const result = validate(configSchemas(opts.catalog, defaults), json, '', CONFIG_IGNORED);
  if (!result.ok) throw new ConfigError(source, [...envIssues, ...result.issues]);
  const config: RingsideConfig = result.value;
  assignFilterPaths(config);
  const semantic = checkSemantics(config, json, opts.catalog);
  const issues = [...envIssues, ...semantic.errors];
  if (issues.length > 0) throw new ConfigError(source, issues);
  const built = opts.catalog.dryBuild?.(config) ?? [];
  if (built.length > 0) throw new ConfigError(source, built);
  return { config, warnings: [...result.warnings, ...semantic.warnings], source };
}

/**
 * The lint and data copies of the whole-config schema, built once per catalog and set of defaults:
 * a reload (or an xDS update) with the same environment validates with the schemas the first load
 * built instead of building both copies again.
 */
const schemaCache = new WeakMap<ConfigCatalog<RingsideConfig>, Map<string, SchemaPair<RingsideConfig>>>();

function configSchemas(catalog: ConfigCatalog<RingsideConfig>, defaults: SettingsDefaults): SchemaPair<RingsideConfig> {
  let byDefaults = schemaCache.get(catalog);
  if (byDefaults === undefined) schemaCache.set(catalog, (byDefaults = new Map()));
  const key = JSON.stringify(defaults);
  let pair = byDefaults.get(key);
  if (pair === undefined) {
    pair = { lint: buildSchemas(true, defaults, catalog).config, data: buildSchemas(false, defaults, catalog).config as unknown as SchemaPair<RingsideConfig>['data'] };
    byDefaults.set(key, pair);
  }
  return pair;
}

export function defaultConfig(opts: ParseOptions): LoadedConfig {
  // A deep copy, so nothing downstream can alter the embedded object between loads.
  return parseConfig(structuredClone(defaultConfigJson) as unknown, DEFAULT_CONFIG_SOURCE, opts);
}

/** A port from the environment, used only when the config leaves ringside.dapr.<key> unset. */
function envPort(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number, json: unknown, key: string, issues: ConfigIssue[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (valueAt(json, ['ringside', 'dapr', key]) !== undefined) return fallback;
  const path = `ringside.dapr.${key}`;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= 65535 && /^\d+$/.test(raw.trim())) return n;
  issues.push({ path, message: `${name}=${JSON.stringify(raw)} in the environment is not a port number (1-65535)` });
  return fallback;
}
