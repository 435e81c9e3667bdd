/**
 * Where `ringside start` gets its config: a file (-c) or the embedded default, loaded and validated
 * by src/config. Kept apart from the CLI so the supervisor's tests can start from the same path.
 */
import { readFile } from 'node:fs/promises';

export interface ConfigProblem {
  path: string;
  message: string;
}

export interface LoadedConfig {
  config: unknown;
  warnings: readonly ConfigProblem[];
  /** File name, or a label such as "embedded default config". */
  source: string;
}

/** The contract of src/config this module relies on. */
interface ConfigModule {
  loadConfigFile(path: string): Promise<LoadedConfig> | LoadedConfig;
  defaultConfig(): Promise<LoadedConfig> | LoadedConfig;
}

/**
 * Throws src/config's ConfigError (with `.issues`) for an invalid config; the CLI turns that into
 * exit code 2 with one `path: reason` line per issue.
 */
export async function loadStartConfig(file: string | undefined): Promise<LoadedConfig> {
  const mod = await configModule();
  if (mod !== null) return file === undefined ? mod.defaultConfig() : mod.loadConfigFile(file);
  // Until src/config is wired: JSON only, no validation.
  if (file === undefined) return { config: { servers: [] }, warnings: [], source: 'empty config' };
  return { config: JSON.parse(await readFile(file, 'utf8')) as unknown, warnings: [], source: file };
}

async function configModule(): Promise<ConfigModule | null> {
  // HOOK(config): replace with a static import of src/config's loader once it exists.
  const spec = '../config/index.js';
  try {
    return (await import(spec)) as ConfigModule;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw err;
  }
}
