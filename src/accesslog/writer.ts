/**
 * Where access log lines go: `log_path` "stdout", "stderr" or a file (appended, created if
 * missing). Lines are written through pino's SonicBoom destination — buffered, asynchronous, whole
 * lines per write(2), so the workers appending to one file never interleave within a line.
 */
import pino from 'pino';
import type { AccessLog, AccessLogRecord } from '../types/accesslog.js';
import type { CompiledFormat } from './format.js';

type Destination = ReturnType<typeof pino.destination>;

/** Opened once per path per worker: two listeners logging to one file share its destination. */
const open = new Map<string, { dest: Destination; users: number }>();

function destinationFor(path: string): Destination {
  let entry = open.get(path);
  if (entry === undefined) {
    const dest = path === 'stdout' ? 1 : path === 'stderr' ? 2 : path;
    entry = { dest: pino.destination({ dest, sync: false, mkdir: true }), users: 0 };
    open.set(path, entry);
  }
  entry.users++;
  return entry.dest;
}

function release(path: string): void {
  const entry = open.get(path);
  if (entry === undefined || --entry.users > 0) return;
  open.delete(path);
  // A file destination opens asynchronously and flushSync throws until it has; end() waits for the
  // open and then writes what is buffered, so nothing logged is lost either way.
  try {
    entry.dest.flushSync();
  } catch {
    // still opening: end() below flushes once the file is open
  }
  entry.dest.end();
}

class FileAccessLog implements AccessLog {
  readonly #path: string;
  readonly #dest: Destination;
  readonly #format: CompiledFormat;
  #closed = false;

  constructor(path: string, format: CompiledFormat) {
    this.#path = path;
    this.#dest = destinationFor(path);
    this.#format = format;
  }

  log(record: AccessLogRecord): void {
    if (this.#closed) return;
    this.#dest.write(`${this.#format(record)}\n`);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    release(this.#path);
  }
}

/** Several access_logs entries on one listener: each gets every line. */
class TeeAccessLog implements AccessLog {
  readonly #logs: readonly AccessLog[];
  constructor(logs: readonly AccessLog[]) {
    this.#logs = logs;
  }
  log(record: AccessLogRecord): void {
    for (const l of this.#logs) l.log(record);
  }
  close(): void {
    for (const l of this.#logs) l.close();
  }
}

export function openAccessLogs(entries: readonly { path: string; format: CompiledFormat }[]): AccessLog | undefined {
  if (entries.length === 0) return undefined;
  const logs = entries.map((e) => new FileAccessLog(e.path, e.format));
  return logs.length === 1 ? logs[0] : new TeeAccessLog(logs);
}
