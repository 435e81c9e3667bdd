/**
 * `ringside start [-c FILE] [--workers N]`: load and validate the config, bring the supervisor up,
 * print the one ready line on stdout, then live until a signal (or admin POST /drain) drains it.
 *
 * Exit codes: 2 for a config or usage error (nothing is started), 1 for any other start failure
 * (workers already spawned are stopped first), 0 after a graceful drain.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { configureLogging, logger } from '../common/log.js';
import { Supervisor } from '../supervisor/supervisor.js';
// Not the config barrel: that loads the loader (zod, every schema), which the main thread only
// needs for --check and reloads (src/supervisor/config-check.ts).
import { ConfigError, formatIssue } from '../config/errors.js';
import { checkStartConfig, loadOnMainThread } from '../supervisor/config-check.js';
import type { ConfigSource } from '../supervisor/config-source.js';
import { xdsBootstrapOf, type XdsBootstrap } from '../xds/bootstrap.js';
import type { LoadedConfig, RingsideConfig } from '../config/types.js';

const log = logger('start');

export const startUsage = `usage: ringside start [-c FILE] [--workers N] [--check]

  -c, --config FILE   MOSN/Layotto JSON config (default: the embedded config that serves at once)
  -w, --workers N     data-plane worker threads (default: ringside.workers, else the core count)
      --check         validate the config, print its warnings on stderr (whatever
                      default_log_path says), print "config OK" and exit 0;
                      an invalid config exits 2 as start does; nothing is started
  -h, --help          this text

Prints "ringside ready: workers=N listeners=name@address,..." on stdout once every listener on
every worker accepts. SIGTERM or SIGINT drains (stop accepting, finish in-flight work up to
ringside.drain_timeout) and exits 0; a second signal exits at once. SIGHUP (or admin POST /reload)
re-reads FILE and applies listeners, routers and clusters without dropping connections.`;

/** What the main thread itself takes from the config (the workers read the rest). */
export function startSettingsOf(config: RingsideConfig): {
  logLevel: RingsideConfig['servers'][number]['default_log_level'];
  logPath: string | undefined;
  workers: number;
  drainTimeoutMs: number;
  adminAddress: string | null;
} {
  const r = config.ringside;
  // One logger per process, as MOSN's default logger: servers[0] sets it (the loader warns when a
  // later server asks for something else).
  return {
    logLevel: config.servers[0]?.default_log_level,
    logPath: config.servers[0]?.default_log_path,
    workers: r.workers ?? availableParallelism(),
    drainTimeoutMs: r.drain_timeout,
    adminAddress: r.admin.enabled ? r.admin.address : null,
  };
}

/** Resolves when start-up failed (with the exit code); on success it never resolves. */
export async function runStart(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        workers: { type: 'string', short: 'w' },
        help: { type: 'boolean', short: 'h' },
        check: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    process.stderr.write(`ringside start: ${err instanceof Error ? err.message : String(err)}\n${startUsage}\n`);
    return 2;
  }
  if (args.values.help === true) {
    process.stdout.write(`${startUsage}\n`);
    return 0;
  }

  let loaded: LoadedConfig;
  try {
    // --check starts no thread, so it validates here; start-up asks a prewarmed data-plane thread.
    loaded = args.values.check === true ? await loadOnMainThread(args.values.config) : await checkStartConfig(args.values.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ringside: invalid config ${err.source}\n`);
      for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      return 2;
    }
    process.stderr.write(`ringside: cannot load config: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const settings = startSettingsOf(loaded.config);
  try {
    // MOSN's default_log_level; RINGSIDE_LOG overrides it. Applied before the first line is logged.
    configureLogging(settings.logLevel, process.env, settings.logPath);
  } catch (err) {
    process.stderr.write(`ringside: ${err instanceof Error ? err.message.replace(/^default_log_path/, 'servers[0].default_log_path') : String(err)}\n`);
    return 2;
  }
  if (args.values.check === true) {
    // A check is read by whoever ran it: its warnings go to stderr as plain lines, wherever
    // default_log_path sends the log (the path itself was opened above, so a bad one fails here too).
    for (const w of loaded.warnings) process.stderr.write(`ringside: warning: ${w}\n`);
    process.stdout.write(`config OK: ${loaded.source}${loaded.warnings.length > 0 ? ` (${loaded.warnings.length} warning(s) on stderr)` : ''}\n`);
    return 0;
  }
  for (const w of loaded.warnings) log.warn(`config ${loaded.source}: ${w}`);

  let workers = settings.workers;
  if (args.values.workers !== undefined) {
    workers = Number(args.values.workers);
    if (!Number.isInteger(workers) || workers < 1) {
      process.stderr.write(`ringside start: --workers: expected an integer ≥ 1, got "${args.values.workers}"\n`);
      return 2;
    }
  }
  let bootstrap: XdsBootstrap | null;
  try {
    bootstrap = xdsBootstrapOf(loaded.config, loaded.source);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`ringside: invalid config ${err.source}\n`);
    for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    return 2;
  }
  // The reload path (SIGHUP, admin POST /reload, xDS) validates on this thread: its loader and the
  // data plane's builders load on the first reload, not at start-up.
  let source: Promise<ConfigSource> | null = null;
  const configSource = (): Promise<ConfigSource> =>
    (source ??= import('../supervisor/config-source.js').then(({ ConfigSource: Source }) => new Source(args.values.config)));
  const supervisor = new Supervisor({
    config: loaded.config,
    workers,
    drainTimeoutMs: settings.drainTimeoutMs,
    adminAddress: settings.adminAddress,
    testHooks: process.env.RINGSIDE_TEST_HOOKS === '1',
    // SIGHUP and admin POST /reload read the same file again through the same loader (with the
    // resources the control plane sent, when there is one).
    reloadConfig: async () => (await configSource()).load(),
    configSource: loaded.source,
  });
  supervisor.installSignalHandlers();
  try {
    const ready = await supervisor.start();
    const listeners = ready.listeners.map((l) => `${l.name}@${l.address}`).join(',');
    process.stdout.write(`ringside ready: workers=${ready.workers} listeners=${listeners}\n`);
    if (bootstrap !== null) {
      // Loaded only for an xDS bootstrap: the ADS client brings grpc-js and the Envoy protos.
      const { startXds } = await import('../supervisor/xds-link.js');
      await startXds(bootstrap, await configSource(), supervisor);
    }
  } catch (err) {
    process.stderr.write(`ringside: start failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  return new Promise<number>(() => {});
}
