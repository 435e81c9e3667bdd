/**
 * RUNTIME channels for request-id protocols (Layotto's xChannel: `bolt`, `boltv2`, `dubbo`): what the
 * shared channel machinery (src/runtime/channel/xchannel.ts — pool, ids, timeouts, heartbeats,
 * oneway, per-target pools) asks of one protocol. Imports no implementation.
 */
import type { RingsideError } from './errors.js';
import type { RpcRequest, RpcResponse } from './runtime.js';

/** A decoded answer from the peer, matched to its call by `id`. */
export interface XAnswer {
  readonly id: number;
  /** An answer to the channel's own heartbeat: no call waits for it. */
  readonly heartbeat: boolean;
  /** The protocol's decoded frame, handed back to `XChannelProtocol.toResponse`. */
  readonly frame: unknown;
}

/** Splits a connection's bytes into answers. */
export interface XAnswerReader {
  push(chunk: Buffer): void;
  destroy(): void;
}

/** One call as the channel hands it to the protocol. */
export interface XCall {
  readonly req: RpcRequest;
  /** The call's timeout in ms (rpc_request_timeout, else the invoker's); bolt writes it in its header. */
  readonly timeoutMs: number;
  /** `rpc_request_type: oneway`: sent without expecting an answer. */
  readonly oneway: boolean;
  /** Content type `application/json`: the channel builds the request from JSON arguments. */
  readonly json: boolean;
  /** gRPC metadata that becomes protocol headers (the channel's control keys removed). */
  readonly headers: Readonly<Record<string, string>>;
}

/** The protocol half of a channel. */
export interface XChannelProtocol {
  readonly name: string;
  /** The request body for the call (opaque `data`, or a transcoded JSON call; may run on the offload pool). */
  body(call: XCall): Buffer | Promise<Buffer>;
  /** The whole request frame with request id `id` around `body`. */
  frame(call: XCall, id: number, body: Buffer): Buffer;
  /**
   * A reader of answers for one connection; `maxBytes` bounds one frame's body. `reply` writes on the
   * connection (the answer to a heartbeat the peer sends).
   */
  reader(onAnswer: (a: XAnswer) => void, onError: (err: RingsideError) => void, maxBytes: number, reply: (bytes: Buffer) => void): XAnswerReader;
  /** The RPC answer (or the call's error) for a decoded frame; may run on the offload pool. */
  toResponse(frame: unknown, call: XCall): RpcResponse | Promise<RpcResponse>;
  /** A heartbeat frame with request id `id`, when the protocol keeps connections alive this way. */
  heartbeat?(id: number): Buffer;
  /**
   * For a protocol whose frames depend on what the same connection carried before (geerpc: the
   * Option first, gob type definitions once per stream): the protocol of one new connection, whose
   * frame() and reader() keep that connection's state. Absent: every connection shares this one.
   */
  connection?(): XChannelProtocol;
}
