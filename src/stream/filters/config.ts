/**
 * Config validation helpers for stream filter factories. Every error names the JSON path of the bad
 * value, so a wrong sidecar.json fails start-up with a message that points at the line to fix.
 */
import { parseDuration } from '../../common/duration.js';

/** A stream filter's config was invalid; `path` is the JSON path of the offending value. */
export class StreamFilterConfigError extends Error {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'StreamFilterConfigError';
    this.path = path;
  }
}

export function objectAt(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StreamFilterConfigError(path, 'expected an object');
  }
  return value as Record<string, unknown>;
}

/** Rejects keys the filter does not know, so a typo does not silently disable a setting. */
export function onlyKeys(obj: Record<string, unknown>, keys: readonly string[], path: string): void {
  for (const k of Object.keys(obj)) {
    if (!keys.includes(k)) throw new StreamFilterConfigError(`${path}.${k}`, `unknown key (known: ${keys.join(', ')})`);
  }
}

/** A percentage in [0, 100]; absent means 100 (always), as in Envoy's fault filter. */
export function percentageAt(value: unknown, path: string): number {
  if (value === undefined) return 100;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw new StreamFilterConfigError(path, 'expected a number from 0 to 100');
  }
  return value;
}

/** A duration as milliseconds: a number (ms) or a Go-style string ("10ms", "1.5s", "1m30s"). */
export function durationMsAt(value: unknown, path: string): number {
  if (typeof value === 'number' || typeof value === 'string') {
    const r = parseDuration(value);
    if (r.ok) return r.value;
  }
  throw new StreamFilterConfigError(path, 'expected a duration such as "10ms", "1.5s" or a number of milliseconds');
}
