/**
 * Layotto channel `geerpc`, on the request-id channel machinery (xchannel.ts): InvokeService(id =
 * "Foo", method = "Sum", data = {"Num1": 1, "Num2": 2}) with content type `application/json` calls
 * `Foo.Sum` over gob and answers the reply as JSON (`3`). The channel's `listener` is a geerpc
 * server's host:port, or a Ringside listener whose proxy speaks geerpc.
 *
 * - Each connection is a gob stream: it opens with the Option (gob codec), and its type
 *   definitions go out once per connection, so the protocol is per connection (connection()).
 * - The JSON arguments become a gob value by inference (an integer → int, another number →
 *   float64, an object → a struct whose keys are the field names, …), which Go decodes into its
 *   argument type by field name. The reply's gob value becomes JSON: Buffers as base64 (Go's
 *   encoding/json spelling of []byte), integers past 2^53 as strings, maps as objects.
 * - JSON only: a gob body's type ids mean something on one stream alone, so an opaque body cannot
 *   be passed through; other content types are refused.
 * - Header.Error fails the call: a sidecar's own (`ringside: CODE: …` from a Ringside proxy) with
 *   that code, anything else as the service's error (UPSTREAM_STATUS).
 * geerpc has no heartbeat; a broken connection fails its calls and the pool dials again.
 */
import { RingsideError, type ErrorCode } from '../../common/errors.js';
import { createCodec, type Codec, type Frame } from '../../geerpc/codec.js';
import { GOB_CODEC, MAGIC_NUMBER, encodeOption } from '../../geerpc/option.js';
import type { Channel, ChannelEnv, RpcResponse } from '../../types/runtime.js';
import type { XAnswer, XAnswerReader, XCall, XChannelProtocol } from '../../types/xchannel.js';
import type { ChannelConfig, ChannelFactory } from './factory.js';
import { z } from 'zod';
import type { ConfigSpec } from '../../types/extension.js';
import { XChannel } from './xchannel.js';

const SIDECAR_ERROR = /^ringside: ([A-Z_]+): /;
const CODES = new Set<string>(['BAD_REQUEST', 'LIMIT_EXCEEDED', 'NO_ROUTE', 'NO_HEALTHY_HOST', 'CONNECT_FAILED', 'UPSTREAM_RESET', 'UPSTREAM_BAD_RESPONSE', 'UPSTREAM_STATUS', 'TIMEOUT', 'OVERFLOW', 'CANCELLED', 'UNAVAILABLE', 'INTERNAL']);

/** The channel-wide half: checks the call; connections get a GeerpcConnection. */
class GeerpcChannelProtocol implements XChannelProtocol {
  readonly name = 'geerpc';
  readonly #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  body(call: XCall): Buffer {
    if (!call.json) {
      throw new RingsideError('BAD_REQUEST', 'downstream', `the geerpc channel takes content type application/json (got ${JSON.stringify(call.req.contentType)}): gob bodies cannot be passed through opaque`);
    }
    if (call.oneway) throw new RingsideError('BAD_REQUEST', 'downstream', 'geerpc has no oneway calls');
    return call.req.data;
  }

  connection(): XChannelProtocol {
    return new GeerpcConnection(this.#maxBytes);
  }

  frame(): Buffer {
    throw new RingsideError('INTERNAL', 'internal', 'geerpc frames are written by a connection (connection())');
  }

  reader(): XAnswerReader {
    throw new RingsideError('INTERNAL', 'internal', 'geerpc answers are read by a connection (connection())');
  }

  toResponse(frame: unknown): RpcResponse {
    return answerOf(frame as Frame);
  }
}

/** One connection's gob stream, both ways. */
class GeerpcConnection implements XChannelProtocol {
  readonly name = 'geerpc';
  readonly #codec: Codec;
  #optionSent = false;

  constructor(maxBytes: number) {
    this.#codec = createCodec(GOB_CODEC, { maxMessageBytes: maxBytes })!;
  }

  body(call: XCall): Buffer {
    return call.req.data;
  }

  frame(call: XCall, id: number, body: Buffer): Buffer {
    let args: unknown;
    try {
      args = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new RingsideError('BAD_REQUEST', 'downstream', `the geerpc call's data is not JSON: ${(err as Error).message}`);
    }
    if (args === null) throw new RingsideError('BAD_REQUEST', 'downstream', 'the geerpc call needs arguments (data is null)');
    const req = call.req;
    let bytes: Buffer;
    try {
      bytes = this.#codec.encode({ ServiceMethod: `${req.id}.${req.method}`, Seq: id, Error: '' }, args);
    } catch (err) {
      throw new RingsideError('BAD_REQUEST', 'downstream', (err as Error).message);
    }
    if (this.#optionSent) return bytes;
    this.#optionSent = true;
    // The call's own deadline is enforced here; HandleTimeout 0 leaves the server unbounded, as Go's default.
    return Buffer.concat([encodeOption({ MagicNumber: MAGIC_NUMBER, CodecType: GOB_CODEC, ConnectTimeout: 0, HandleTimeout: 0 }), bytes]);
  }

  reader(onAnswer: (a: XAnswer) => void, onError: (err: RingsideError) => void): XAnswerReader {
    let dead = false;
    return {
      push: (chunk) => {
        if (dead) return;
        let frames: Frame[];
        try {
          frames = this.#codec.decode(chunk);
        } catch (err) {
          dead = true;
          onError(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', (err as Error).message));
          return;
        }
        for (const f of frames) onAnswer({ id: f.header.Seq, heartbeat: false, frame: f });
      },
      destroy: () => {
        dead = true;
      },
    };
  }

  toResponse(frame: unknown): RpcResponse {
    return answerOf(frame as Frame);
  }
}

function answerOf(f: Frame): RpcResponse {
  const error = f.header.Error;
  if (error !== '') {
    const m = SIDECAR_ERROR.exec(error);
    if (m !== null && CODES.has(m[1]!)) throw new RingsideError(m[1] as ErrorCode, 'upstream', error.slice(m[0].length), { retryable: false });
    throw new RingsideError('UPSTREAM_STATUS', 'upstream', `geerpc service error: ${error}`, { retryable: false });
  }
  return { status: 200, contentType: 'application/json', data: Buffer.from(JSON.stringify(f.body ?? null, toJson)), headers: {} };
}

/** gob values as JSON: Maps as objects, Buffers as base64, integers past 2^53 as decimal strings. */
function toJson(this: unknown, key: string, v: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (Buffer.isBuffer(raw)) return raw.toString('base64');
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, e]) => [String(k), e]));
  return v;
}

/** Registered as channel protocol "geerpc". */
export class GeerpcChannelFactory implements ChannelFactory {
  create(config: ChannelConfig, _path: string, env: ChannelEnv): Channel {
    return new XChannel(config, env, new GeerpcChannelProtocol(env.maxResponseBytes));
  }
}


/** `geerpc` takes no `ext` options. */
export const geerpcChannelSpec: ConfigSpec<Record<string, never>> = {
  schema: () => z.strictObject({}) as unknown as z.ZodType<Record<string, never>>,
};
