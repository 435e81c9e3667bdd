/**
 * Ringside's logger, on pino. One JSON object per line to the config's `default_log_path` (stderr,
 * stdout or a file; stderr until the config is loaded), each with the thread it came from (`thread`:
 * main, worker/0 …) and the layer that logged it (`scope`). On a terminal, or with
 * RINGSIDE_LOG_FORMAT=pretty, lines go through pino-pretty instead, in the same thread.
 *
 * Level: the config's `default_log_level` (MOSN's key) via configureLogging(); RINGSIDE_LOG overrides
 * it. debug is what phase transitions and filter decisions log at.
 *
 * Why the destination is a synchronous write (fd 1, fd 2 or the file) rather than pino's worker-thread transport: each
 * data-plane worker logs from its own thread, and a worker that hits a fatal error logs and exits at
 * once — a line still queued for another thread would be lost. Logging is never on the request path
 * (debug lines are guarded by enabled()), so a blocking write costs nothing that matters.
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import type { LogSettings, ThreadLogLevel } from '../types/observability.js';

export type { LogSettings } from '../types/observability.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
/** What RINGSIDE_LOG accepts: pino's levels plus `silent`. */
export const ENV_LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type EnvLogLevel = ThreadLogLevel;
export type LogFormat = LogSettings['format'];

export interface Logger {
  error(msg: string, ...fields: unknown[]): void;
  warn(msg: string, ...fields: unknown[]): void;
  info(msg: string, ...fields: unknown[]): void;
  debug(msg: string, ...fields: unknown[]): void;
}

/** RINGSIDE_LOG, checked; undefined when unset. Throws with the accepted values when it is not one. */
export function envLogLevel(env: NodeJS.ProcessEnv = process.env): EnvLogLevel | undefined {
  const raw = env.RINGSIDE_LOG;
  if (raw === undefined || raw === '') return undefined;
  const level = raw.toLowerCase();
  if (!(ENV_LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`RINGSIDE_LOG: expected one of ${ENV_LOG_LEVELS.join(', ')}, got "${raw}"`);
  }
  return level as EnvLogLevel;
}

/** RINGSIDE_LOG_FORMAT (json | pretty), else pretty on a terminal and JSON otherwise. */
export function envLogFormat(env: NodeJS.ProcessEnv = process.env): LogFormat {
  const raw = env.RINGSIDE_LOG_FORMAT;
  if (raw === undefined || raw === '') return process.stderr.isTTY === true ? 'pretty' : 'json';
  if (raw === 'json' || raw === 'pretty') return raw;
  throw new Error(`RINGSIDE_LOG_FORMAT: expected json or pretty, got "${raw}"`);
}

function initialSettings(): LogSettings {
  let level: EnvLogLevel = 'info';
  let format: LogFormat = 'json';
  // A bad value is reported by `ringside start` (exit 2); until then, and in library use, log at info.
  try {
    level = envLogLevel() ?? 'info';
  } catch {
    /* reported by the CLI */
  }
  try {
    format = envLogFormat();
  } catch {
    /* reported by the CLI */
  }
  return { level, format, destination: 'stderr', colorize: format === 'pretty' && process.stderr.isTTY === true };
}

let settings: LogSettings = initialSettings();
let threadLabel = isMainThread ? 'main' : 'worker';
let root: PinoLogger = buildRoot();
/** Bumped whenever root is rebuilt, so scoped loggers made at import time pick up the new one. */
let generation = 0;

/** fd 1, fd 2, or a file opened for append (sync: every thread writes its own lines, whole). */
function target(): number | string {
  return settings.destination === 'stdout' ? 1 : settings.destination === 'stderr' ? 2 : settings.destination;
}

function destination(): DestinationStream {
  const dest = target();
  if (settings.format === 'pretty') {
    // pino-pretty is CommonJS; loaded only when asked for, so JSON logging never pays its start-up.
    const require = createRequire(import.meta.url);
    const pretty = require('pino-pretty') as (opts: Record<string, unknown>) => DestinationStream;
    return pretty({ destination: dest, mkdir: true, append: true, sync: true, colorize: settings.colorize, ignore: 'pid,hostname,thread,scope', messageFormat: '[{thread}] {scope}: {msg}', hideObject: false });
  }
  return pino.destination({ dest, sync: true, append: true, mkdir: true });
}

function buildRoot(): PinoLogger {
  return pino(
    {
      level: settings.level,
      base: { pid: process.pid, thread: threadLabel },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: pino.stdSerializers.err },
    },
    destination(),
  );
}

function rebuild(): void {
  root = buildRoot();
  generation++;
}

/**
 * Applies the config's level (MOSN `default_log_level`) unless RINGSIDE_LOG is set, which wins, and
 * its destination (MOSN `default_log_path`: "stdout", "stderr" or a file; absent: stderr). Returns
 * the settings now in force, which the supervisor hands to each worker. Throws when the file cannot
 * be opened for append (the CLI exits 2 with the message).
 */
export function configureLogging(configLevel: LogLevel | undefined, env: NodeJS.ProcessEnv = process.env, logPath?: string): LogSettings {
  const level = envLogLevel(env) ?? configLevel ?? 'info';
  const dest = logPath ?? 'stderr';
  const stream = dest === 'stdout' ? process.stdout : dest === 'stderr' ? process.stderr : undefined;
  // RINGSIDE_LOG_FORMAT decides; unset, pretty only when the destination is a terminal.
  const format = env['RINGSIDE_LOG_FORMAT'] === undefined || env['RINGSIDE_LOG_FORMAT'] === '' ? (stream?.isTTY === true ? 'pretty' : 'json') : envLogFormat(env);
  const next: LogSettings = { level, format, destination: dest, colorize: format === 'pretty' && stream?.isTTY === true };
  const previous = settings;
  settings = next;
  try {
    rebuild();
  } catch (err) {
    settings = previous;
    rebuild();
    throw new Error(`default_log_path: cannot open "${dest}" for logging: ${(err as Error).message}`, { cause: err });
  }
  return { ...settings };
}

/** A worker thread adopts the supervisor's settings and its own label (worker/0 …) at boot. */
export function adoptLogSettings(next: LogSettings, label: string): void {
  settings = { ...next };
  threadLabel = label;
  rebuild();
}

/** The settings in force in this thread. */
export function logSettings(): LogSettings {
  return { ...settings };
}

export function setLogLevel(level: EnvLogLevel): void {
  settings = { ...settings, level };
  rebuild();
}

/** Workers call this once they know their index, so lines say worker/0 rather than a thread id. */
export function setThreadLabel(label: string): void {
  threadLabel = label;
  rebuild();
}

export function enabled(level: LogLevel): boolean {
  return root.isLevelEnabled(level);
}

/**
 * The fields after the message: an Error becomes pino's serialized `err` (message, stack, code); a
 * plain object's keys join the line; anything else is kept under `detail`.
 */
function fieldsObject(fields: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const details: unknown[] = [];
  for (const f of fields) {
    if (f instanceof Error) {
      if (out.err === undefined) out.err = f;
      else details.push(pino.stdSerializers.err(f));
    } else if (f !== null && typeof f === 'object' && !Array.isArray(f)) {
      Object.assign(out, f);
    } else if (f !== '' && f !== undefined) {
      details.push(f);
    }
  }
  if (details.length === 1) out.detail = details[0];
  else if (details.length > 1) out.detail = details;
  return out;
}

class ScopedLogger implements Logger {
  readonly #scope: string;
  #child: PinoLogger | null = null;
  #generation = -1;

  constructor(scope: string) {
    this.#scope = scope;
  }

  #logger(): PinoLogger {
    if (this.#generation !== generation || this.#child === null) {
      this.#child = root.child({ scope: this.#scope });
      this.#generation = generation;
    }
    return this.#child;
  }

  #emit(level: LogLevel, msg: string, fields: unknown[]): void {
    const l = this.#logger();
    if (!l.isLevelEnabled(level)) return;
    if (fields.length === 0) l[level](msg);
    else l[level](fieldsObject(fields), msg);
  }

  error(msg: string, ...fields: unknown[]): void {
    this.#emit('error', msg, fields);
  }
  warn(msg: string, ...fields: unknown[]): void {
    this.#emit('warn', msg, fields);
  }
  info(msg: string, ...fields: unknown[]): void {
    this.#emit('info', msg, fields);
  }
  debug(msg: string, ...fields: unknown[]): void {
    this.#emit('debug', msg, fields);
  }
}

export function logger(scope: string): Logger {
  return new ScopedLogger(scope);
}
