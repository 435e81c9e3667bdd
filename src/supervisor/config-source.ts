/**
 * Where `ringside start` gets its config: a file (-c) or the embedded default, loaded and validated
 * by src/config through the build's catalog of extensions (src/extensions.ts), on the main thread,
 * before any worker exists. Kept apart from the CLI so the supervisor's tests can start from the same path.
 */
import { defaultConfig, loadConfigFile } from '../config/index.js';
import { configCatalog } from '../extensions.js';
import type { LoadedConfig } from '../config/types.js';

export type { LoadedConfig };

/**
 * Throws src/config's ConfigError (with `.issues`, each a JSON path and a reason) for an invalid
 * config; the CLI turns that into exit code 2 with one `path: reason` line per issue.
 */
export function loadStartConfig(file: string | undefined): LoadedConfig {
  const catalog = configCatalog();
  return file === undefined ? defaultConfig({ catalog }) : loadConfigFile(file, { catalog });
}
