/**
 * Config reload on the main thread (SIGHUP, admin POST /reload): the file is read and validated by
 * the same loader as start-up, the parts a reload cannot change in place are checked, and the result
 * is what the supervisor applies on every worker (WorkerControl.apply).
 *
 * What a reload applies: `servers[].listeners`, `servers[].routers` and `cluster_manager`. Everything
 * else (the `ringside` section — workers, admin, limits, Dapr ports —, other keys of `servers[]`,
 * `tracing` …) is read once at start; a reload that changes one of those is refused with its path, so
 * a file never reads as applied when part of it is not.
 */
import { createHash } from 'node:crypto';
import type { ConfigIssue } from '../types/extension.js';
import type { RingsideConfig } from '../config/types.js';

/** What /stats and config_dump report as the config in force. */
export interface ConfigVersion {
  /** 1 at start, +1 for every reload that was applied. */
  version: number;
  /** sha256 of the validated config, the first 16 hex digits. */
  hash: string;
  source: string;
  /** ISO time the version was put in force. */
  applied_at: string;
}

export type ReloadResult = 'applied' | 'unchanged' | 'invalid' | 'failed';

export interface ReloadOutcome {
  result: ReloadResult;
  version: ConfigVersion;
  /** invalid: every problem, with its JSON path. */
  issues?: ConfigIssue[];
  /** failed: why a worker could not apply it (the workers kept or went back to the previous config). */
  error?: string;
  warnings?: string[];
}

export function configHash(config: unknown): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}

const RELOADABLE_SERVER_KEYS = new Set(['listeners', 'routers']);
const RELOADABLE_TOP_KEYS = new Set(['servers', 'cluster_manager']);
const RESTART = 'changing this takes a restart (a reload applies servers[].listeners, servers[].routers and cluster_manager)';

/** The paths where `next` differs from `current` outside what a reload applies. */
export function restartOnlyChanges(current: RingsideConfig, next: RingsideConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const a = current as unknown as Record<string, unknown>;
  const b = next as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (RELOADABLE_TOP_KEYS.has(key)) continue;
    diffPaths(a[key], b[key], key, issues);
  }
  const servers = Math.max(current.servers.length, next.servers.length);
  for (let i = 0; i < servers; i++) {
    const sa = (current.servers[i] ?? {}) as Record<string, unknown>;
    const sb = (next.servers[i] ?? {}) as Record<string, unknown>;
    for (const key of new Set([...Object.keys(sa), ...Object.keys(sb)])) {
      if (RELOADABLE_SERVER_KEYS.has(key)) continue;
      diffPaths(sa[key], sb[key], `servers[${i}].${key}`, issues);
    }
  }
  return issues;
}

/** The deepest object keys where two JSON values differ (arrays and leaves are reported whole). */
function diffPaths(a: unknown, b: unknown, path: string, out: ConfigIssue[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const objects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b);
  if (!objects) {
    out.push({ path, message: RESTART });
    return;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) diffPaths(x[key], y[key], `${path}.${key}`, out);
}
