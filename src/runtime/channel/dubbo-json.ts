/**
 * JSON ⇄ dubbo transcoding for the dubbo channel: a JSON call becomes a hessian2 invocation body, a
 * response body becomes the JSON of its result. Plain functions over bytes, so the worker and an
 * offload pool thread (task kinds `dubbo.encode_json` / `dubbo.decode_json`) run the same code.
 */
import { RingsideError } from '../../common/errors.js';
import { decodeResult, encodeInvocationBody } from '../../protocol/dubbo/messages.js';
import { javaArguments, parseJsonCall, resultJson } from './json-call.js';

/** `com.example.Calc:1.0.0` → service path and version (Dubbo's serviceKey without a group). */
export function splitServiceId(id: string): { service: string; version: string } {
  const colon = id.indexOf(':');
  const service = colon < 0 ? id : id.slice(0, colon);
  const version = colon < 0 ? '' : id.slice(colon + 1);
  if (service === '') throw new RingsideError('BAD_REQUEST', 'downstream', `service id ${JSON.stringify(id)} names no service`);
  return { service, version };
}

export interface DubboJsonRequest {
  /** The JSON call (`data`). */
  data: Uint8Array;
  /** The RPC id: `service[:version]`. */
  id: string;
  method: string;
  /** Metadata sent as attachments. */
  attachments: Record<string, string>;
}

/** The invocation body for a JSON call. */
export function dubboJsonBody(req: DubboJsonRequest): Buffer {
  const { service, version } = splitServiceId(req.id);
  if (req.method === '') throw new RingsideError('BAD_REQUEST', 'downstream', 'the method is empty');
  const { args, descriptor } = javaArguments(parseJsonCall(req.data));
  return encodeInvocationBody({ service, version, method: req.method, descriptor, args, attachments: req.attachments });
}

/** First byte of a decoded outcome: what the rest is. */
export const Outcome = { VALUE: 0, EXCEPTION: 1, BAD_BYTES: 2 } as const;

/**
 * The outcome of an OK response body as bytes: VALUE + the result's JSON, EXCEPTION + the exception's
 * JSON, or BAD_BYTES + why (bytes cross the offload pool; errors are data here, not throws).
 */
export function dubboResultOutcome(status: number, body: Uint8Array): Buffer {
  let r;
  try {
    r = decodeResult(status, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  } catch (err) {
    return Buffer.concat([Buffer.of(Outcome.BAD_BYTES), Buffer.from((err as Error).message, 'utf8')]);
  }
  switch (r.kind) {
    case 'value':
      return Buffer.concat([Buffer.of(Outcome.VALUE), resultJson(r.value)]);
    case 'null':
      return Buffer.concat([Buffer.of(Outcome.VALUE), Buffer.from('null')]);
    case 'exception':
      return Buffer.concat([Buffer.of(Outcome.EXCEPTION), resultJson(r.exception)]);
    case 'error':
      return Buffer.concat([Buffer.of(Outcome.BAD_BYTES), Buffer.from(r.message, 'utf8')]);
  }
}
