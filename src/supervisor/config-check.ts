/**
 * `ringside start`'s config check without the loader on the main thread. The loader needs zod,
 * every extension's schema and, for the dry build that makes a worker's build errors exit-2 errors,
 * the routers and the cluster manager: about 30 MiB of modules and heap that the main thread has no
 * other use for. A prewarmed data-plane thread (src/supervisor/prewarm.ts) loads those anyway, so
 * it runs the same loader (src/worker/config-check.ts) and sends back the normalized config, or the
 * issues, before anything listens; the main thread turns issues into the same ConfigError.
 *
 * When no prewarmed thread can answer (none was started, or it died loading), the main thread loads
 * the loader itself, so a config error is reported the same way whatever happened to the thread.
 */
import { ConfigError } from '../config/errors.js';
import type { LoadedConfig, RingsideConfig } from '../config/types.js';
import { checkConfigOnPrewarmed } from './prewarm.js';

/** Loads and validates the start-up config (-c FILE, or the embedded default); throws ConfigError. */
export async function checkStartConfig(file: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): Promise<LoadedConfig> {
  const reply = await checkConfigOnPrewarmed(file, env);
  if (reply === undefined) return loadOnMainThread(file, env);
  if (reply.ok) return { config: reply.loaded.config as RingsideConfig, warnings: reply.loaded.warnings, source: reply.loaded.source };
  if ('failure' in reply) throw new Error(reply.failure);
  throw new ConfigError(reply.source, reply.issues);
}

/** The loader on this thread: `--check`, a reload, or a start-up whose prewarmed thread could not answer. */
export async function loadOnMainThread(file: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): Promise<LoadedConfig> {
  const { loadStartConfig } = await import('./config-source.js');
  return loadStartConfig(file, env);
}
