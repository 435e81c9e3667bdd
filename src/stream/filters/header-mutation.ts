/**
 * `header_mutation` stream filter: edits request headers before the handler sees them and response
 * headers before they are encoded. Within each side, removals apply first, then `set` (replace),
 * then `add` (append), so one config can rename a header by removing it and adding another.
 *
 *   { "request":  { "remove": ["x-debug"], "set": { "x-env": "prod" }, "add": { "via": "ringside" } },
 *     "response": { "set": { "server": "ringside" } } }
 */
import { TOKEN, VALUE } from '../../protocol/http1/chars.js';
import { FilterStatus } from '../../types/network.js';
import type { HeaderMap, RequestFrame, ResponseFrame } from '../../types/protocol.js';
import type {
  StreamFilterChainFactory,
  StreamFilterFactory,
  StreamReceiverFilter,
  StreamSenderFilter,
} from '../../types/stream.js';
import { objectAt, onlyKeys, StreamFilterConfigError } from './config.js';

export interface HeaderEdits {
  remove: string[];
  set: [string, string][];
  add: [string, string][];
}

export interface HeaderMutationConfig {
  request: HeaderEdits | null;
  response: HeaderEdits | null;
}

function checkName(name: string, path: string): void {
  let ok = name.length > 0;
  for (let i = 0; ok && i < name.length; i++) ok = TOKEN[name.charCodeAt(i)] === 1;
  if (!ok) throw new StreamFilterConfigError(path, `"${name}" is not a valid header name`);
}

function checkValue(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new StreamFilterConfigError(path, 'expected a string');
  // CR or LF here would let config split a response; values must be single-line latin1.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || VALUE[c] !== 1) throw new StreamFilterConfigError(path, 'control or non-latin1 character in header value');
  }
  return value;
}

function pairsAt(value: unknown, path: string): [string, string][] {
  if (value === undefined) return [];
  const obj = objectAt(value, path);
  return Object.entries(obj).map(([k, v]) => {
    checkName(k, `${path}.${k}`);
    return [k, checkValue(v, `${path}.${k}`)];
  });
}

function editsAt(value: unknown, path: string): HeaderEdits | null {
  if (value === undefined) return null;
  const obj = objectAt(value, path);
  onlyKeys(obj, ['add', 'set', 'remove'], path);
  let remove: string[] = [];
  if (obj.remove !== undefined) {
    if (!Array.isArray(obj.remove)) throw new StreamFilterConfigError(`${path}.remove`, 'expected an array of header names');
    remove = obj.remove.map((n: unknown, i: number) => {
      if (typeof n !== 'string') throw new StreamFilterConfigError(`${path}.remove[${i}]`, 'expected a string');
      checkName(n, `${path}.remove[${i}]`);
      return n;
    });
  }
  return { remove, set: pairsAt(obj.set, `${path}.set`), add: pairsAt(obj.add, `${path}.add`) };
}

export function parseHeaderMutationConfig(config: unknown, path: string): HeaderMutationConfig {
  const obj = objectAt(config, path);
  onlyKeys(obj, ['request', 'response'], path);
  const parsed = { request: editsAt(obj.request, `${path}.request`), response: editsAt(obj.response, `${path}.response`) };
  if (parsed.request === null && parsed.response === null) {
    throw new StreamFilterConfigError(path, 'needs "request", "response" or both');
  }
  return parsed;
}

function apply(edits: HeaderEdits, headers: HeaderMap): void {
  for (const name of edits.remove) headers.remove(name);
  for (const [name, value] of edits.set) headers.set(name, value);
  for (const [name, value] of edits.add) headers.add(name, value);
}

/** Stateless, so one instance per configured entry serves every stream. */
class RequestMutation implements StreamReceiverFilter {
  constructor(readonly edits: HeaderEdits) {}
  setReceiverCallbacks(): void {}
  onReceiveHeaders(request: RequestFrame): FilterStatus {
    apply(this.edits, request.headers);
    return FilterStatus.Continue;
  }
}

class ResponseMutation implements StreamSenderFilter {
  constructor(readonly edits: HeaderEdits) {}
  setSenderCallbacks(): void {}
  onSendHeaders(response: ResponseFrame): FilterStatus {
    apply(this.edits, response.headers);
    return FilterStatus.Continue;
  }
}

export const headerMutationFilterFactory: StreamFilterFactory = {
  create(config: unknown, path: string): StreamFilterChainFactory {
    const parsed = parseHeaderMutationConfig(config, path);
    const req = parsed.request === null ? null : new RequestMutation(parsed.request);
    const res = parsed.response === null ? null : new ResponseMutation(parsed.response);
    return (_stream, chain) => {
      if (req !== null) chain.addReceiverFilter(req);
      if (res !== null) chain.addSenderFilter(res);
    };
  },
};
