/**
 * Builds the one gRPC request a bench run repeats: loads the .proto (or a runtime API preset),
 * checks the JSON message against the request type, and encodes it once as a length-prefixed frame.
 * Runs on the main thread only; load threads receive bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { GrpcOptions } from './driver.js';

export interface GrpcCall {
  path: string;
  frame: Uint8Array;
}

interface Preset {
  file: string;
  call: string;
}

const presets: Record<'layotto' | 'dapr', Preset> = {
  layotto: { file: 'proto/spec/proto/runtime/v1/runtime.proto', call: 'spec.proto.runtime.v1.Runtime/InvokeService' },
  dapr: { file: 'proto/dapr/proto/runtime/v1/dapr.proto', call: 'dapr.proto.runtime.v1.Dapr/InvokeService' },
};

const verbs = ['NONE', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/** The package root: the nearest ancestor of this module holding Ringside's package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ringside') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export async function buildGrpcCall(opts: GrpcOptions): Promise<GrpcCall> {
  let file = opts.proto;
  let call = opts.call;
  let message: unknown;
  if (opts.api !== undefined) {
    const preset = presets[opts.api];
    file ??= join(packageRoot(), preset.file);
    call ??= preset.call;
    const verb = verbs.indexOf(opts.verb.toUpperCase());
    if (verb < 0) throw new Error(`unknown --verb "${opts.verb}" (known: ${verbs.join(', ')})`);
    message = {
      id: opts.id,
      message: {
        method: opts.method,
        data: { type_url: '', value: Buffer.from(opts.data, 'utf8') },
        content_type: opts.contentType,
        http_extension: { verb, querystring: '' },
      },
    };
  } else {
    if (file === undefined || call === undefined) throw new Error('grpc needs --grpc-api layotto|dapr, or --proto FILE with --call pkg.Service/Method');
    try {
      message = JSON.parse(opts.message ?? '{}');
    } catch (err) {
      throw new Error(`bad --message JSON: ${(err as Error).message}`);
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) throw new Error('bad --message JSON: expected an object');
  }
  const root = await loadProto(file, opts.importPaths);
  const { requestType, path } = findMethod(root, call, file);
  const normalized = normalize(requestType, message, requestType.fullName.slice(1));
  const problem = requestType.verify(normalized);
  if (problem !== null) throw new Error(`bad --message for ${requestType.fullName.slice(1)}: ${problem}`);
  const body = requestType.encode(requestType.fromObject(normalized)).finish();
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = 0; // not compressed
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  return { path, frame };
}

async function loadProto(file: string, importPaths: readonly string[]): Promise<protobuf.Root> {
  if (!existsSync(file)) throw new Error(`cannot read proto ${file}: no such file`);
  const abs = resolve(file);
  // Imports resolve like protoc's -I: the importing file's folder, each --import-path, then every
  // ancestor of the main file (so dapr/proto/... resolves from the tree that holds dapr.proto).
  const ancestors: string[] = [];
  for (let d = dirname(abs); ; d = dirname(d)) {
    ancestors.push(d);
    if (dirname(d) === d) break;
  }
  const root = new protobuf.Root();
  root.resolvePath = (origin: string, target: string): string | null => {
    if (isAbsolute(target)) return target;
    if (target in protobuf.common) return target;
    const candidates = [origin === '' ? '' : join(dirname(origin), target), ...importPaths.map((p) => join(p, target)), ...ancestors.map((a) => join(a, target))];
    for (const c of candidates) if (c !== '' && existsSync(c)) return c;
    return target.startsWith('google/protobuf/') ? target : join(dirname(abs), target);
  };
  try {
    await root.load(abs, { keepCase: true });
    root.resolveAll();
  } catch (err) {
    throw new Error(`cannot load proto ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  return root;
}

function findMethod(root: protobuf.Root, call: string, file: string): { requestType: protobuf.Type; path: string } {
  const m = /^\/?([\w.]+)[/.](\w+)$/.exec(call);
  if (m === null) throw new Error(`bad --call "${call}": expected pkg.Service/Method`);
  const [, serviceName, methodName] = m as unknown as [string, string, string];
  const service = root.lookup(serviceName);
  if (!(service instanceof protobuf.Service)) {
    throw new Error(`no service ${serviceName} in ${file} (services: ${listServices(root).join(', ') || 'none'})`);
  }
  const method = service.methods[methodName];
  if (method === undefined) throw new Error(`no method ${methodName} in ${serviceName} (methods: ${Object.keys(service.methods).join(', ')})`);
  if (method.requestStream === true || method.responseStream === true) throw new Error(`${serviceName}/${methodName} is streaming; bench drives unary methods`);
  method.resolve();
  const requestType = method.resolvedRequestType;
  if (requestType === null) throw new Error(`cannot resolve the request type of ${serviceName}/${methodName}`);
  return { requestType, path: `/${serviceName}/${methodName}` };
}

function listServices(ns: protobuf.NamespaceBase): string[] {
  const out: string[] = [];
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Service) out.push(child.fullName.slice(1));
    else if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) out.push(...listServices(child));
  }
  return out;
}

/**
 * Maps camelCase JSON names onto the proto's field names and rejects unknown fields, because
 * protobufjs silently drops them and a typo would otherwise bench an empty message.
 */
function normalize(type: protobuf.Type, value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`bad --message: ${where} must be an object`);
  const out: Record<string, unknown> = {};
  const byJson = new Map<string, protobuf.Field>();
  for (const f of type.fieldsArray) {
    byJson.set(f.name, f);
    byJson.set(camel(f.name), f);
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = byJson.get(key);
    if (field === undefined) throw new Error(`bad --message: unknown field "${key}" in ${where}`);
    field.resolve();
    const sub = field.resolvedType;
    const isAny = sub instanceof protobuf.Type && sub.fullName === '.google.protobuf.Any';
    if (sub instanceof protobuf.Type && !isAny && v !== null && !field.map) {
      out[field.name] = Array.isArray(v) ? v.map((e, i) => normalize(sub, e, `${where}.${key}[${i}]`)) : normalize(sub, v, `${where}.${key}`);
    } else {
      out[field.name] = v;
    }
  }
  return out;
}

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
