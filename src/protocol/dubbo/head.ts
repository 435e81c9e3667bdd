/**
 * The head of a dubbo request body (DubboCodec.encodeRequestData): five hessian2 strings — Dubbo
 * version, service path, service version, method, parameter descriptor — then the arguments, then the
 * attachments map. Routing needs the first four, so the proxy decodes only those; the attachments
 * (where `group` lives) sit behind the arguments and are decoded only when something asks for them.
 */
import { RingsideError } from '../../common/errors.js';
import { countArguments } from './descriptor.js';
import { hessianDecoder, type HessianDecoder } from './hessian.js';

export interface DubboRequestHead {
  readonly dubboVersion: string;
  readonly service: string;
  readonly version: string;
  readonly method: string;
  readonly descriptor: string;
  /** Where the arguments start in the body. */
  readonly argsAt: number;
}

function badRequest(message: string, cause?: unknown): RingsideError {
  return new RingsideError('BAD_REQUEST', 'downstream', message, cause === undefined ? {} : { cause });
}

function readString(dec: HessianDecoder, what: string, nullable: boolean): string {
  let v: unknown;
  try {
    v = dec.read();
  } catch (err) {
    throw badRequest(`dubbo request: cannot decode the ${what}: ${(err as Error).message}`, err);
  }
  if (v === null && nullable) return '';
  if (typeof v !== 'string') throw badRequest(`dubbo request: the ${what} is not a string`);
  return v;
}

/** Decodes the five head strings of a request body; throws a BAD_REQUEST RingsideError otherwise. */
export function decodeRequestHead(body: Buffer): DubboRequestHead {
  if (body.length === 0) throw badRequest('dubbo request: empty body');
  const dec = hessianDecoder(body);
  const dubboVersion = readString(dec, 'dubbo version', false);
  const service = readString(dec, 'service path', false);
  // Dubbo writes a null version for services without one (MOSN: "callback maybe return nil").
  const version = readString(dec, 'service version', true);
  const method = readString(dec, 'method name', false);
  const descriptor = readString(dec, 'parameter descriptor', true);
  return { dubboVersion, service, version, method, descriptor, argsAt: dec.byteBuffer.position() };
}

/** The body's arguments as JS values and its attachments (string entries only, as MOSN keeps them). */
export function decodeRequestRest(body: Buffer, head: DubboRequestHead): { args: unknown[]; attachments: Record<string, string>; attachmentsAt: number } {
  const count = countArguments(head.descriptor);
  if (count < 0) throw badRequest(`dubbo request: bad parameter descriptor ${JSON.stringify(head.descriptor)}`);
  const dec = hessianDecoder(body);
  dec.byteBuffer.position(head.argsAt);
  const args: unknown[] = [];
  let map: unknown;
  let attachmentsAt: number;
  try {
    for (let i = 0; i < count; i++) args.push(dec.read());
    attachmentsAt = dec.byteBuffer.position();
    map = attachmentsAt < body.length ? dec.read() : null;
  } catch (err) {
    throw badRequest(`dubbo request: cannot decode the arguments or attachments: ${(err as Error).message}`, err);
  }
  return { args, attachments: stringEntries(map), attachmentsAt };
}

/** String keys with string values of a decoded hessian map (a plain object or a Map). */
export function stringEntries(map: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (map === null || typeof map !== 'object') return out;
  const entries: Iterable<[unknown, unknown]> = map instanceof Map ? map.entries() : Object.entries(map);
  for (const [k, v] of entries) if (typeof k === 'string' && typeof v === 'string') out[k] = v;
  return out;
}
