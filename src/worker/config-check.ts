/**
 * The worker half of the start-up config check (src/supervisor/config-check.ts): a prewarmed
 * data-plane thread loads and validates the config the CLI names, with the same loader and catalog
 * the main thread used to run itself — schema, cross-references and the dry build of routers and
 * clusters — and posts the normalized config or the issues back.
 *
 * Why here: the loader needs zod, every extension's schema and, for the dry build, the routers and
 * the cluster manager; a data-plane thread loads all of that anyway, the main thread otherwise would
 * not. The thread answers before its WorkerBoot arrives and is then handed to a slot like any other
 * prewarmed thread.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ConfigCheckMessage, ConfigCheckReply } from '../types/messages.js';
import { configCatalog } from '../extensions.js';

export async function answerConfigCheck(msg: ConfigCheckMessage, parent: MessagePort): Promise<void> {
  let reply: ConfigCheckReply;
  try {
    // Loaded on the check's demand: a thread spawned with its WorkerBoot never parses a config.
    const { ConfigError, defaultConfig, loadConfigFile } = await import('../config/load.js');
    const opts = { catalog: configCatalog(), env: msg.env };
    try {
      const loaded = msg.file === undefined ? defaultConfig(opts) : loadConfigFile(msg.file, opts);
      reply = { type: 'config-checked', id: msg.id, ok: true, loaded: { config: loaded.config, warnings: loaded.warnings, source: loaded.source } };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      reply = { type: 'config-checked', id: msg.id, ok: false, source: err.source, issues: err.issues.map((i) => ({ path: i.path, message: i.message })) };
    }
  } catch (err) {
    reply = { type: 'config-checked', id: msg.id, ok: false, failure: err instanceof Error ? err.message : String(err) };
  }
  parent.postMessage(reply);
}
