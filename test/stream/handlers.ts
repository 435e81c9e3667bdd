/** Test handlers for the stream layer: small StreamHandler implementations with observable state. */
import { Headers } from '../../src/protocol/headers.js';
import type { HeaderMap, RequestFrame } from '../../src/types/protocol.js';
import type { ResponseSender, StreamHandler, StreamInfo, StreamResetReason } from '../../src/types/stream.js';

export interface Seen {
  streamId: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  trailers: Record<string, string> | null;
  ended: boolean;
  reset: StreamResetReason | null;
}

/**
 * Answers once the request is complete with `200` and a body describing what it saw; a path like
 * /delay/30 answers 30 ms later (so later pipelined requests finish first), /stream answers in pieces.
 */
export function recordingHandler(log: Seen[]) {
  return (stream: StreamInfo, sender: ResponseSender): StreamHandler => {
    const seen: Seen = { streamId: stream.id, method: '', path: '', headers: {}, body: '', trailers: null, ended: false, reset: null };
    log.push(seen);
    const answer = (): void => {
      const run = (): void => {
        if (seen.reset !== null) return;
        if (seen.path === '/stream') {
          const head = sender.newResponse(200);
          sender.sendHeaders(head, false);
          sender.sendData(Buffer.from(`id=${stream.id};`), false);
          sender.sendData(Buffer.from(seen.body), false);
          sender.sendTrailers(Headers.from({ 'X-Done': 'yes' }));
          return;
        }
        if (seen.path === '/silent') return;
        const head = sender.newResponse(200);
        head.headers.add('X-Stream-Id', String(stream.id));
        sender.send(head, Buffer.from(`${seen.method} ${seen.path} ${seen.body}`));
      };
      const m = /^\/delay\/(\d+)/.exec(seen.path);
      if (m !== null) setTimeout(run, Number(m[1]));
      else run();
    };
    return {
      onHeaders(request: RequestFrame, endOfStream: boolean) {
        seen.method = request.method;
        seen.path = request.path;
        seen.headers = (request.headers as Headers).toObject();
        if (endOfStream) {
          seen.ended = true;
          answer();
        }
      },
      onData(chunk: Buffer, endOfStream: boolean) {
        seen.body += chunk.toString('latin1');
        if (endOfStream) {
          seen.ended = true;
          answer();
        }
      },
      onTrailers(trailers: HeaderMap) {
        seen.trailers = (trailers as Headers).toObject();
        seen.ended = true;
        answer();
      },
      onReset(reason: StreamResetReason) {
        seen.reset = reason;
      },
    };
  };
}
