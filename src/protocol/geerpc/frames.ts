/**
 * geerpc messages as the stream layer and the proxy see them: one (Header, body) pair. The body is
 * kept as gob value bytes plus the shape of its type (gob/relay.ts), never as a JS value: the proxy
 * forwards what a Go client sent without knowing its Go type, re-defining the type on the stream it
 * is sent on.
 *
 * `service` and `method` come from ServiceMethod split at its last dot (as Go's server splits it);
 * they are the frame's path and method and its `service` / `method` headers, for routes to match.
 * The header map carries nothing on the wire (geerpc has none): ServiceMethod is rebuilt from path
 * and method when the frame is written.
 */
import { XCommand, type XRequest, type XResponse } from '../../types/xprotocol.js';
import type { GobRelayType } from '../gob/index.js';
import { XHeaders } from '../xprotocol/headers.js';

export const GEERPC = 'geerpc';
export const HEADER_SERVICE = 'service';
export const HEADER_METHOD = 'method';

/** Go's `strings.LastIndex(ServiceMethod, ".")` split; no dot: all service, no method. */
export function splitServiceMethod(serviceMethod: string): [string, string] {
  const dot = serviceMethod.lastIndexOf('.');
  return dot < 0 ? [serviceMethod, ''] : [serviceMethod.slice(0, dot), serviceMethod.slice(dot + 1)];
}

export function joinServiceMethod(service: string, method: string): string {
  return method === '' ? service : `${service}.${method}`;
}

export class GeeRequest implements XRequest {
  readonly protocol = GEERPC;
  readonly kind = 'request';
  readonly command = XCommand.Request;
  path: string;
  method: string;
  readonly headers: XHeaders;
  constructor(
    /** Header.Seq: the downstream's on arrival, this hop's connection's when sent on. */
    public requestId: number,
    serviceMethod: string,
    /** The downstream's Option HandleTimeout, in ms; 0 for none. */
    readonly timeoutMs: number,
    /** The body's type; null: `content` is text, sent as a gob string (or an empty struct when empty). */
    readonly bodyType: GobRelayType | null,
    /** The body's gob value bytes (after the type id). */
    public content: Buffer,
  ) {
    const [service, method] = splitServiceMethod(serviceMethod);
    this.path = service;
    this.method = method;
    this.headers = new XHeaders([HEADER_SERVICE, service, HEADER_METHOD, method]);
  }

  get serviceMethod(): string {
    return joinServiceMethod(this.path, this.method);
  }
}

export class GeeResponse implements XResponse {
  readonly protocol = GEERPC;
  readonly kind = 'response';
  readonly heartbeat = false;
  reason = '';
  readonly headers = new XHeaders();
  constructor(
    public requestId: number,
    readonly serviceMethod: string,
    /** GeeStatus: OK, SERVICE_ERROR (Header.Error from the service) or one of Ringside's own. */
    public status: number,
    /** Header.Error; empty on success. A non-OK reply with none sends its content (a direct response's text), else the status name. */
    public error: string,
    readonly bodyType: GobRelayType | null,
    public content: Buffer,
  ) {}
}
