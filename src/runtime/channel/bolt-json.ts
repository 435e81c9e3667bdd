/**
 * JSON ⇄ SOFARPC transcoding for the bolt and boltv2 channels: a JSON call becomes the content of a
 * bolt request — a hessian2 `com.alipay.sofa.rpc.core.request.SofaRequest` (target service unique
 * name = the RPC id, method name, the arguments' Java type names) followed by the arguments, each
 * tagged with its Java type — and a response's SofaResponse becomes the JSON of its result. Plain
 * functions over bytes, so the worker and an offload pool thread (task kinds `bolt.encode_json` /
 * `bolt.decode_json`) run the same code.
 */
import { createRequire } from 'node:module';
import { RingsideError } from '../../common/errors.js';
import { SOFA_RESPONSE_CLASS } from '../../protocol/bolt/constants.js';
import { boltCodec, boltResponseBytes } from '../../protocol/bolt/codec.js';
import { toJavaArgument } from '../../protocol/dubbo/descriptor.js';
import { parseJsonCall, resultJson } from './json-call.js';
import { Outcome } from './dubbo-json.js';

/**
 * sofa-bolt-node's protocol: SOFARPC's Node.js peer writes and reads the SofaRequest / SofaResponse
 * hessian2 the way SOFARPC servers and clients do (the class-definition form sofa-rpc-node's own
 * decoder expects, which hessian.js 2.x does not write), so the channel transcodes through it.
 */
interface SofaProtocol {
  requestEncode(id: number, req: unknown, options: unknown): Buffer;
  decode(frame: Buffer, options: object): { data: { error: Error | null; appResponse?: unknown } };
}
let loaded: SofaProtocol | null = null;
/** Loaded on the first JSON call: a process that never makes one (the main thread) never loads it. */
function sofaProtocol(): SofaProtocol {
  return (loaded ??= createRequire(import.meta.url)('sofa-bolt-node/lib/protocol') as SofaProtocol);
}
const SOFA_OPTIONS = { protocolType: 'bolt', codecType: 'hessian2', boltVersion: 1 };

export interface BoltJsonRequest {
  /** The JSON call (`data`). */
  data: Uint8Array;
  /** The RPC id: SOFARPC's target service unique name (`com.example.Calc:1.0`). */
  id: string;
  method: string;
  /** Metadata, also carried as the SofaRequest's requestProps. */
  props: Record<string, string>;
}

/** The bolt content (SofaRequest + arguments) for a JSON call. */
export function boltJsonContent(req: BoltJsonRequest): Buffer {
  if (req.id === '') throw new RingsideError('BAD_REQUEST', 'downstream', 'the RPC id (the service unique name) is empty');
  if (req.method === '') throw new RingsideError('BAD_REQUEST', 'downstream', 'the method is empty');
  const call = parseJsonCall(req.data);
  const args = call.args.map((a, i) => toJavaArgument(call.argTypes[i]!, a));
  let frame: Buffer;
  try {
    frame = sofaProtocol().requestEncode(0, { serverSignature: req.id, methodName: req.method, args, timeout: 0, requestProps: { ...req.props } }, SOFA_OPTIONS);
  } catch (err) {
    throw new RingsideError('BAD_REQUEST', 'downstream', `cannot encode the arguments: ${(err as Error).message}`);
  }
  // The content of the frame sofa-bolt-node wrote: the channel frames it itself (id, timeout, headers).
  const r = boltCodec.decode(frame, { maxHeaderBytes: frame.length, maxContentBytes: frame.length });
  if (r.kind !== 'frame') throw new RingsideError('INTERNAL', 'internal', 'sofa-bolt-node wrote a request Ringside cannot read');
  return r.frame.content;
}

/**
 * The outcome of a SofaResponse as bytes: VALUE + the result's JSON, EXCEPTION + the error's message
 * (the service threw, or answered isError), or BAD_BYTES + why — read as sofa-rpc-node's client reads it.
 */
export function boltResultOutcome(content: Uint8Array): Buffer {
  let data: { error: Error | null; appResponse?: unknown };
  try {
    data = sofaProtocol().decode(boltResponseBytes(SOFA_RESPONSE_CLASS, Buffer.from(content.buffer, content.byteOffset, content.byteLength)), {}).data;
  } catch (err) {
    return Buffer.concat([Buffer.of(Outcome.BAD_BYTES), Buffer.from(`cannot decode the SofaResponse: ${(err as Error).message}`, 'utf8')]);
  }
  if (data.error !== null && data.error !== undefined) return Buffer.concat([Buffer.of(Outcome.EXCEPTION), resultJson(data.error.message)]);
  return Buffer.concat([Buffer.of(Outcome.VALUE), resultJson(data.appResponse ?? null)]);
}
