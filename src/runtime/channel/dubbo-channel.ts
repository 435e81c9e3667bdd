/**
 * Layotto's `dubbo` channel on the request-id channel machinery (xchannel.ts). Each call is one dubbo
 * request frame (hessian2, two-way unless `rpc_request_type: oneway`) with the connection's next id.
 *
 * - Opaque (Layotto's behaviour): `data` is the request body exactly as the caller encoded it — the
 *   dubbo version, service path, version, method, descriptor, arguments and attachments in hessian2 —
 *   and the answer is the response body as received. A dubbo frame has no header map outside its
 *   hessian2 body, so metadata is not carried in this form (Layotto's dubbo channel drops it too).
 * - `application/json`: the channel builds the invocation — service path and version from the RPC
 *   id (`com.example.Calc:1.0.0`), the method, the descriptor from `argTypes` or inferred, metadata as
 *   attachments — and answers the result as JSON. Bodies of at least `json_offload_min_bytes` are
 *   transcoded on the worker's offload pool.
 *
 * A status other than OK fails the call as Layotto does (`dubbo error code N`, gRPC UNAVAILABLE), as
 * does an exception the service threw (JSON form).
 */
import { RingsideError } from '../../common/errors.js';
import { DubboStatus, dubboStatusName } from '../../protocol/dubbo/constants.js';
import { dubboCodec } from '../../protocol/dubbo/codec.js';
import { heartbeatRequest, requestFrame } from '../../protocol/dubbo/messages.js';
import type { XResponse } from '../../types/xprotocol.js';
import type { OffloadRunner } from '../../types/offload.js';
import type { Channel, ChannelEnv, RpcResponse } from '../../types/runtime.js';
import type { ChannelConfig, ChannelFactory } from './factory.js';
import type { XAnswer, XAnswerReader, XCall, XChannelProtocol } from '../../types/xchannel.js';
import { dubboJsonBody, dubboResultOutcome, Outcome } from './dubbo-json.js';
import { XChannel } from './xchannel.js';
import { codecAnswerReader } from './codec-reader.js';
import { decodeOutcome, offloadError, type JsonChannelOptions } from './x-json.js';

class DubboChannelProtocol implements XChannelProtocol {
  readonly name = 'dubbo';
  readonly #offload: OffloadRunner | undefined;
  readonly #offloadMin: number;

  constructor(offload: OffloadRunner | undefined, opts: JsonChannelOptions) {
    this.#offload = offload;
    this.#offloadMin = opts.jsonOffloadMinBytes;
  }

  body(call: XCall): Buffer | Promise<Buffer> {
    const req = call.req;
    if (!call.json) return req.data;
    const task = { data: req.data, id: req.id, method: req.method, attachments: { ...call.headers } };
    if (this.#offload !== undefined && req.data.length >= this.#offloadMin) {
      return this.#offload.run({ kind: 'dubbo.encode_json', ...task }).then(
        (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        (err: unknown) => Promise.reject(offloadError(err)),
      );
    }
    return dubboJsonBody(task);
  }

  frame(call: XCall, id: number, body: Buffer): Buffer {
    return requestFrame(id, !call.oneway, body);
  }

  reader(onAnswer: (a: XAnswer) => void, onError: (err: RingsideError) => void, maxBytes: number, reply: (b: Buffer) => void): XAnswerReader {
    // The provider's own heartbeats are answered by the reader, as Dubbo's HeartbeatHandler does.
    return codecAnswerReader(dubboCodec, onAnswer, onError, maxBytes, reply);
  }

  toResponse(frame: unknown, call: XCall): RpcResponse | Promise<RpcResponse> {
    const a = frame as XResponse;
    if (a.status !== DubboStatus.OK) {
      throw new RingsideError('UPSTREAM_STATUS', 'upstream', `dubbo error code ${a.status} (${dubboStatusName(a.status)})`, { status: a.status, retryable: false });
    }
    if (!call.json) return { status: 200, contentType: '', data: a.content, headers: {} };
    if (this.#offload !== undefined && a.content.length >= this.#offloadMin) {
      return this.#offload.run({ kind: 'dubbo.decode_json', data: a.content, status: a.status }).then((b) => decodeOutcome(b, 'dubbo'));
    }
    return decodeOutcome(dubboResultOutcome(a.status, a.content), 'dubbo');
  }

  heartbeat(id: number): Buffer {
    return heartbeatRequest(id);
  }
}

export { Outcome };

/** Registered as channel protocol "dubbo". */
export class DubboChannelFactory implements ChannelFactory {
  readonly #parse: (config: ChannelConfig, path: string) => JsonChannelOptions;
  constructor(parse: (config: ChannelConfig, path: string) => JsonChannelOptions) {
    this.#parse = parse;
  }
  create(config: ChannelConfig, path: string, env: ChannelEnv): Channel {
    return new XChannel(config, env, new DubboChannelProtocol(env.offload, this.#parse(config, path)));
  }
}
