/**
 * The answer reader of a request-id channel, on the same codec the proxy uses: the X-protocol
 * FrameReader cuts the connection's bytes into frames with the protocol's XProtocolCodec. Answers go
 * to the channel by id; a heartbeat from the peer is answered here (as the peer's own heartbeat
 * handler would); a goaway is noted on the connection; any other request from the peer, or bytes the
 * codec refuses, end the connection.
 */
import { RingsideError } from '../../common/errors.js';
import { FrameReader } from '../../protocol/xprotocol/frame-reader.js';
import { XCommand, type XProtocolCodec, type XResponse } from '../../types/xprotocol.js';
import type { XAnswer, XAnswerReader } from '../../types/xchannel.js';

export function codecAnswerReader(
  codec: XProtocolCodec,
  onAnswer: (a: XAnswer) => void,
  onError: (err: RingsideError) => void,
  maxBytes: number,
  reply: (bytes: Buffer) => void,
  onGoAway?: () => void,
): XAnswerReader {
  const reader: FrameReader = new FrameReader(
    codec,
    { maxHeaderBytes: Math.min(maxBytes, 1 << 20), maxContentBytes: maxBytes },
    {
      onFrame: (f) => {
        if (f.kind === 'request') {
          if (f.command === XCommand.Heartbeat) reply(codec.encode(codec.heartbeatReply(f)));
          else if (f.command === XCommand.GoAway) onGoAway?.();
          else {
            reader.destroy();
            onError(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `${codec.name}: a request frame where a response was expected`));
          }
          return;
        }
        const res: XResponse = f;
        onAnswer({ id: res.requestId, heartbeat: res.heartbeat, frame: res });
      },
      onDecodeError: (r) => onError(r.error.code === 'LIMIT_EXCEEDED' ? new RingsideError('LIMIT_EXCEEDED', 'upstream', r.error.message) : r.error),
    },
  );
  return { push: (c) => reader.feed(c), destroy: () => reader.destroy() };
}
