/** Test helper: feeds bytes to an HTTP/1.x decoder and records every callback as plain data. */
import type { RingsideError } from '../../src/common/errors.js';
import { createHttp1RequestDecoder, createHttp1ResponseDecoder } from '../../src/protocol/http1/decoder.js';
import { Headers } from '../../src/protocol/headers.js';
import { http1Codec } from '../../src/protocol/http1/codec.js';
import type {
  DecoderOptions,
  HeaderMap,
  Http1RequestHead,
  Http1ResponseHead,
  MessageDecoder,
  ResponseDecoder,
} from '../../src/types/protocol.js';

export interface Message<H> {
  head: H;
  endOfStream: boolean;
  body: string;
  lastFlags: boolean[];
  trailers: Record<string, string> | null;
  complete: boolean;
}

export interface Collected<H> {
  messages: Message<H>[];
  errors: RingsideError[];
  informational: H[];
}

function collector<H>(out: Collected<H>) {
  return {
    onHead(head: H, endOfStream: boolean) {
      out.messages.push({ head, endOfStream, body: '', lastFlags: [], trailers: null, complete: false });
    },
    onBody(_id: number, chunk: Buffer, last: boolean) {
      const m = out.messages[out.messages.length - 1]!;
      m.body += chunk.toString('latin1');
      m.lastFlags.push(last);
    },
    onComplete(_id: number, trailers: HeaderMap | null) {
      const m = out.messages[out.messages.length - 1]!;
      m.complete = true;
      m.trailers = trailers === null ? null : (trailers as Headers).toObject();
    },
    onError(err: RingsideError) {
      out.errors.push(err);
    },
    onInformational(head: H) {
      out.informational.push(head);
    },
  };
}

/** Decodes requests from the given pieces (each piece is copied into a reused buffer, like a read loop). */
export function decodeRequests(
  pieces: (string | Buffer)[],
  options?: DecoderOptions,
): Collected<Http1RequestHead> & { decoder: MessageDecoder } {
  const out: Collected<Http1RequestHead> = { messages: [], errors: [], informational: [] };
  const decoder = createHttp1RequestDecoder(collector(out), options);
  feed(decoder, pieces);
  return { ...out, decoder };
}

export function decodeResponses(
  methods: string[],
  pieces: (string | Buffer)[],
  options?: DecoderOptions,
): Collected<Http1ResponseHead> & { decoder: ResponseDecoder } {
  const out: Collected<Http1ResponseHead> = { messages: [], errors: [], informational: [] };
  const decoder = createHttp1ResponseDecoder(collector(out), options);
  for (const method of methods) decoder.expect(http1Codec.newRequest(method, '/'));
  feed(decoder, pieces);
  return { ...out, decoder };
}

/**
 * Simulates a read loop's static buffer: each piece is copied into one shared buffer that is
 * scribbled over after the call, so a decoder that keeps a view instead of a copy is caught.
 */
const scratch = Buffer.alloc(64 * 1024);
export function feed(decoder: MessageDecoder, pieces: (string | Buffer)[]): void {
  for (const p of pieces) {
    const bytes = typeof p === 'string' ? Buffer.from(p, 'latin1') : p;
    bytes.copy(scratch, 0);
    decoder.execute(scratch.subarray(0, bytes.length));
    scratch.fill(0x58, 0, bytes.length);
  }
}

/** Every way of cutting a message in two. */
export function splits(message: string): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 1; i < message.length; i++) out.push([message.slice(0, i), message.slice(i)]);
  return out;
}

/** One byte per piece. */
export function bytewise(message: string): string[] {
  return [...message];
}
