/**
 * Validation of the runtime API's config pieces: the `grpc` filter's config (MOSN/Layotto shape) and
 * the `dapr_http` filter's. Each error names the JSON path of the offending value, so a Layotto config
 * that does not load says exactly where.
 */
import type { MosnInvokerConfig } from '../config/types.js';
import { ConfigError } from '../config/errors.js';
import { grpcFilterSpec, parseWithSpec, type GrpcFilterConfig } from '../config/filters.js';

/** One runtime server's config as the runtime builds it: its name and, when configured, its invoker. */
export interface RuntimeServerConfig {
  server_name: string;
  /** Absent on a second listener that shares the server (e.g. the Dapr gRPC port). */
  invoker: MosnInvokerConfig | undefined;
}

export class RuntimeConfigError extends Error {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'ConfigError';
    this.path = path;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(obj: Record<string, unknown>, key: string, path: string, fallback?: string): string {
  const v = obj[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || v === '') throw new RuntimeConfigError(`${path}.${key}`, 'must be a non-empty string');
  return v;
}

/**
 * The `grpc` network filter's `config`, validated by the same spec the main thread's loader checked
 * it with (src/config/filters.ts), so the two can never disagree; the first issue is thrown here.
 */
export function parseGrpcFilterConfig(v: unknown, path: string): RuntimeServerConfig {
  let parsed: GrpcFilterConfig;
  try {
    parsed = parseWithSpec('grpc filter', grpcFilterSpec, v ?? {}, path).config;
  } catch (err) {
    const issue = err instanceof ConfigError ? err.issues[0] : undefined;
    if (issue === undefined) throw err;
    throw new RuntimeConfigError(issue.path, issue.message);
  }
  return { server_name: parsed.server_name, invoker: parsed.grpc_config.rpcs?.mosn.config };
}

/** The `dapr_http` network filter's `config`: which runtime server's invoker it calls. */
export function parseDaprHttpFilterConfig(v: unknown, path: string): { server_name: string } {
  if (v === undefined || v === null) return { server_name: 'runtime' };
  if (!isObject(v)) throw new RuntimeConfigError(path, 'must be an object {server_name?}');
  return { server_name: str(v, 'server_name', path, 'runtime') };
}
