/**
 * Validation of the runtime API's config pieces: the `grpc` filter's config (MOSN/Layotto shape) and
 * the `dapr_http` filter's. Each error names the JSON path of the offending value, so a Layotto config
 * that does not load says exactly where.
 */
import { parseDuration } from '../config/primitives.js';
import type { ChannelConfig, GrpcFilterConfig, InvokerCallbackConfig, MosnInvokerConfig } from '../types/runtime.js';

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

function callbacks(v: unknown, path: string): InvokerCallbackConfig[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new RuntimeConfigError(path, 'must be an array of {name, config?}');
  return v.map((item, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(item)) throw new RuntimeConfigError(p, 'must be an object {name, config?}');
    return { name: str(item, 'name', p), config: item['config'] };
  });
}

function channels(v: unknown, path: string): ChannelConfig[] {
  if (!Array.isArray(v) || v.length === 0) throw new RuntimeConfigError(path, 'missing channel config (an array with at least one {protocol, listener, size})');
  return v.map((item, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(item)) throw new RuntimeConfigError(p, 'must be an object {protocol, listener, size}');
    const size = item['size'] ?? 1;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 65536) {
      throw new RuntimeConfigError(`${p}.size`, 'must be an integer between 1 and 65536');
    }
    return { protocol: str(item, 'protocol', p), listener: str(item, 'listener', p), size };
  });
}

/** Layotto's default invoke timeout. */
export const DEFAULT_TIMEOUT_MS = 3000;

function timeout(v: unknown, path: string): number {
  if (v === undefined || v === null) return DEFAULT_TIMEOUT_MS;
  if (typeof v !== 'number' && typeof v !== 'string') throw new RuntimeConfigError(path, 'must be a duration: a number of milliseconds or a string like "5s"');
  const r = parseDuration(v);
  if (!r.ok) throw new RuntimeConfigError(path, r.message);
  if (r.value <= 0) throw new RuntimeConfigError(path, 'must be greater than 0');
  return r.value;
}

/** `grpc_config.rpcs.mosn.config`. */
export function parseMosnInvokerConfig(v: unknown, path: string): MosnInvokerConfig {
  if (!isObject(v)) throw new RuntimeConfigError(path, 'must be an object {before_invoke?, after_invoke?, channel}');
  return {
    before_invoke: callbacks(v['before_invoke'], `${path}.before_invoke`),
    after_invoke: callbacks(v['after_invoke'], `${path}.after_invoke`),
    channel: channels(v['channel'], `${path}.channel`),
    timeout_ms: timeout(v['timeout'], `${path}.timeout`),
  };
}

/** The `grpc` network filter's `config`. */
export function parseGrpcFilterConfig(v: unknown, path: string): GrpcFilterConfig {
  if (!isObject(v)) throw new RuntimeConfigError(path, 'must be an object {server_name, grpc_config?}');
  const serverName = str(v, 'server_name', path, 'runtime');
  const grpcConfig = v['grpc_config'];
  if (grpcConfig === undefined || grpcConfig === null) return { server_name: serverName, invoker: undefined };
  const gp = `${path}.grpc_config`;
  if (!isObject(grpcConfig)) throw new RuntimeConfigError(gp, 'must be an object {rpcs}');
  const rpcs = grpcConfig['rpcs'];
  if (rpcs === undefined) return { server_name: serverName, invoker: undefined };
  if (!isObject(rpcs)) throw new RuntimeConfigError(`${gp}.rpcs`, 'must be an object {mosn: {config}}');
  for (const key of Object.keys(rpcs)) {
    if (key !== 'mosn') throw new RuntimeConfigError(`${gp}.rpcs.${key}`, 'unknown rpc invoker (known: mosn)');
  }
  const mosn = rpcs['mosn'];
  if (mosn === undefined) return { server_name: serverName, invoker: undefined };
  if (!isObject(mosn)) throw new RuntimeConfigError(`${gp}.rpcs.mosn`, 'must be an object {type?, config}');
  if (mosn['type'] !== undefined && mosn['type'] !== 'mosn') throw new RuntimeConfigError(`${gp}.rpcs.mosn.type`, 'must be "mosn"');
  return { server_name: serverName, invoker: parseMosnInvokerConfig(mosn['config'], `${gp}.rpcs.mosn.config`) };
}

/** The `dapr_http` network filter's `config`: which runtime server's invoker it calls. */
export function parseDaprHttpFilterConfig(v: unknown, path: string): { server_name: string } {
  if (v === undefined || v === null) return { server_name: 'runtime' };
  if (!isObject(v)) throw new RuntimeConfigError(path, 'must be an object {server_name?}');
  return { server_name: str(v, 'server_name', path, 'runtime') };
}
