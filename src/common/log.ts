/**
 * Minimal leveled logger. One line per event on stderr, prefixed with the thread it came from, so the
 * supervisor's and the workers' lines interleave readably. Level from RINGSIDE_LOG (error, warn, info,
 * debug); debug is what phase transitions and filter decisions log at.
 */
import { isMainThread, threadId } from 'node:worker_threads';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const order: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

let threshold = order[(process.env.RINGSIDE_LOG as LogLevel | undefined) ?? 'info'] ?? order.info;
let threadLabel = isMainThread ? 'main' : `worker#${threadId}`;

export function setLogLevel(level: LogLevel): void {
  threshold = order[level];
}

/** Workers call this once they know their index, so lines say worker/0 rather than a thread id. */
export function setThreadLabel(label: string): void {
  threadLabel = label;
}

export function enabled(level: LogLevel): boolean {
  return order[level] <= threshold;
}

export interface Logger {
  error(msg: string, ...fields: unknown[]): void;
  warn(msg: string, ...fields: unknown[]): void;
  info(msg: string, ...fields: unknown[]): void;
  debug(msg: string, ...fields: unknown[]): void;
}

function emit(level: LogLevel, scope: string, msg: string, fields: unknown[]): void {
  if (order[level] > threshold) return;
  const extra = fields.length === 0 ? '' : ' ' + fields.map(formatField).join(' ');
  process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} [${threadLabel}] ${scope}: ${msg}${extra}\n`);
}

function formatField(f: unknown): string {
  if (f instanceof Error) return f.stack ?? f.message;
  if (typeof f === 'string') return f;
  try {
    return JSON.stringify(f);
  } catch {
    return String(f);
  }
}

export function logger(scope: string): Logger {
  return {
    error: (m, ...f) => emit('error', scope, m, f),
    warn: (m, ...f) => emit('warn', scope, m, f),
    info: (m, ...f) => emit('info', scope, m, f),
    debug: (m, ...f) => emit('debug', scope, m, f),
  };
}
