/**
 * Dapr's invoke of a non-Dapr endpoint by URL (`/v1.0/invoke/http://host:port/method/x`): the request
 * goes straight to that URL with node:http(s) and a keep-alive agent, not through the app channel,
 * since no route of the data plane names an arbitrary URL. Same request shape as the channel's (verb,
 * method as path, query, headers, body); any status comes back as the answer.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { RingsideError } from '../../common/errors.js';
import type { RpcRequest, RpcResponse, RpcResponseHeaders } from '../../types/runtime.js';

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });
/** Largest answer read from an external endpoint (the same bound as the gRPC message limit default). */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export function isExternalTarget(appId: string): boolean {
  return /^https?:\/\//i.test(appId);
}

function headerValues(res: IncomingMessage): RpcResponseHeaders {
  const out: RpcResponseHeaders = {};
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) (out[raw[i]!.toLowerCase()] ??= []).push(raw[i + 1]!);
  return out;
}

export function invokeExternal(base: string, req: RpcRequest): Promise<RpcResponse> {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return Promise.reject(new RingsideError('BAD_REQUEST', 'downstream', `invalid endpoint URL ${JSON.stringify(base)}`));
  }
  const basePath = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const query = req.headers['query_string'] ?? '';
  const path = `${basePath}${req.method.replace(/^\//, '')}${query === '' ? '' : `?${query}`}`;
  const headers: Record<string, string> = {};
  for (const name in req.headers) {
    if (name !== 'verb' && name !== 'query_string' && name !== 'host') headers[name] = req.headers[name]!;
  }
  if (req.contentType !== '' && headers['content-type'] === undefined) headers['content-type'] = req.contentType;
  headers['content-length'] = String(req.data.length);
  const method = req.headers['verb'] && req.headers['verb'] !== 'NONE' ? req.headers['verb'] : 'GET';
  const https = url.protocol === 'https:';
  return new Promise<RpcResponse>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      req.cancel.onCancel = null;
      fn();
    };
    let outgoing: ReturnType<typeof httpRequest>;
    try {
      outgoing = (https ? httpsRequest : httpRequest)(
        { host: url.hostname, port: url.port || (https ? 443 : 80), path, method, headers, agent: https ? httpsAgent : httpAgent },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) {
              res.destroy();
              settle(() => reject(new RingsideError('LIMIT_EXCEEDED', 'upstream', `endpoint answer larger than ${MAX_RESPONSE_BYTES} bytes`)));
            } else chunks.push(c);
          });
          res.on('end', () =>
            settle(() => resolve({ status: res.statusCode ?? 502, contentType: res.headers['content-type'] ?? '', data: Buffer.concat(chunks), headers: headerValues(res) })),
          );
          res.on('error', (e) => settle(() => reject(new RingsideError('UPSTREAM_RESET', 'upstream', e.message))));
        },
      );
    } catch (e) {
      // node:http validates header values and the method; the caller's bad input.
      reject(new RingsideError('BAD_REQUEST', 'downstream', e instanceof Error ? e.message : String(e)));
      return;
    }
    outgoing.on('error', (e: NodeJS.ErrnoException) =>
      settle(() => reject(new RingsideError(e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' ? 'CONNECT_FAILED' : 'UPSTREAM_RESET', 'upstream', e.message))),
    );
    const left = Math.min(req.timeoutMs > 0 ? req.timeoutMs : Infinity, req.deadline - Date.now());
    if (left !== Infinity) {
      timer = setTimeout(() => {
        outgoing.destroy();
        settle(() => reject(new RingsideError('TIMEOUT', 'upstream', `no response within ${Math.round(left)} ms`)));
      }, Math.max(0, left));
    }
    req.cancel.onCancel = () => {
      outgoing.destroy();
      settle(() => reject(new RingsideError('CANCELLED', 'downstream', 'the caller cancelled')));
    };
    outgoing.end(req.data);
  });
}
