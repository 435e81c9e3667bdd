/**
 * `--param JSONPATH=v1,v2`: the setting tune sweeps instead of (or besides) the worker count, written
 * into a temporary copy of the config per value. Paths are dotted keys with [n] indices, e.g.
 * `ringside.offload.threads` or `servers[0].listeners[0].filter_chains[0].filters[0].config.grpc_config.rpcs.mosn.config.channel[0].size`.
 */

export interface ParamSweep {
  path: string;
  values: string[];
}

export function parseParam(spec: string): ParamSweep {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) throw new Error(`bad --param "${spec}": expected JSONPATH=v1,v2`);
  const path = spec.slice(0, eq).trim();
  parsePath(path);
  const values = spec.slice(eq + 1).split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (values.length === 0) throw new Error(`bad --param "${spec}": no values`);
  return { path, values };
}

type Segment = string | number;

function parsePath(path: string): Segment[] {
  const out: Segment[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(path)) !== null) {
    out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
    consumed += m[0].length;
  }
  consumed += (path.match(/\./g) ?? []).length;
  if (out.length === 0 || consumed !== path.length) throw new Error(`bad --param path "${path}"`);
  return out;
}

/** Numbers and booleans are written as JSON values, everything else as a string. */
function parseValue(v: string): unknown {
  try {
    const parsed: unknown = JSON.parse(v);
    return typeof parsed === 'number' || typeof parsed === 'boolean' ? parsed : v;
  } catch {
    return v;
  }
}

/** Returns a deep copy of `config` with `path` set to `value`, creating missing objects on the way. */
export function withParam(config: unknown, path: string, value: string): unknown {
  const copy: unknown = structuredClone(config);
  const segs = parsePath(path);
  let node = copy as Record<string | number, unknown>;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    let next = node[seg];
    if (next === undefined || next === null || typeof next !== 'object') {
      if (typeof seg === 'number' && !Array.isArray(node)) throw new Error(`--param ${path}: index [${seg}] into a non-array`);
      next = typeof segs[i + 1] === 'number' ? [] : {};
      node[seg] = next;
    }
    node = next as Record<string | number, unknown>;
  }
  const last = segs[segs.length - 1]!;
  if (typeof last === 'number' && !Array.isArray(node)) throw new Error(`--param ${path}: index [${last}] into a non-array`);
  node[last] = parseValue(value);
  return copy;
}
