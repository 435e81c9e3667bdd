/**
 * Header-field rules of RFC 9113 §8.2–8.3 that make a message malformed (a stream error of
 * PROTOCOL_ERROR): upper-case names, pseudo-header fields after regular ones or unknown / repeated /
 * in trailers, connection-specific fields, `te` other than "trailers", a request without its
 * mandatory pseudo-header fields or a response without `:status`.
 */
export enum BlockKind {
  Request,
  Response,
  Trailers,
}

const requestPseudo = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);
const connectionSpecific = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** Returns why the block is malformed, or null when it is well formed. */
export function malformed(fields: readonly string[], kind: BlockKind): string | null {
  let regularSeen = false;
  let method: string | undefined;
  let path = false;
  let scheme = false;
  let status = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    for (let j = 0; j < name.length; j++) {
      const c = name.charCodeAt(j);
      if (c >= 65 && c <= 90) return `upper-case field name "${name}"`;
    }
    if (name.length === 0) return 'empty field name';
    if (name.charCodeAt(0) === 58 /* ':' */) {
      if (regularSeen) return `pseudo-header ${name} after regular fields`;
      if (kind === BlockKind.Trailers) return `pseudo-header ${name} in trailers`;
      if (kind === BlockKind.Request) {
        if (!requestPseudo.has(name)) return `unknown pseudo-header ${name}`;
        if (name === ':method') {
          if (method !== undefined) return 'repeated :method';
          method = fields[i + 1]!;
        } else if (name === ':path') {
          if (path) return 'repeated :path';
          if (fields[i + 1]!.length === 0) return 'empty :path';
          path = true;
        } else if (name === ':scheme') {
          if (scheme) return 'repeated :scheme';
          scheme = true;
        }
      } else {
        if (name !== ':status') return `unknown pseudo-header ${name}`;
        if (status) return 'repeated :status';
        status = true;
      }
      continue;
    }
    regularSeen = true;
    if (connectionSpecific.has(name)) return `connection-specific field ${name}`;
    if (name === 'te' && fields[i + 1] !== 'trailers') return 'te other than "trailers"';
  }
  if (kind === BlockKind.Request) {
    if (method === undefined) return 'request without :method';
    if (method !== 'CONNECT' && (!path || !scheme)) return 'request without :path or :scheme';
  } else if (kind === BlockKind.Response && !status) {
    return 'response without :status';
  }
  return null;
}
