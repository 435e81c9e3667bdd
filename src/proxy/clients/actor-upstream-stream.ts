/**
 * What every `upstream.phase` actor's callers share (HTTP/1.1, HTTP/2, X-Protocol and dRPC clients,
 * tcp_proxy's sessions): ActorUpstreamStream, the proxy's end of one request — every call the proxy
 * makes becomes a message to the connection's actor, and the protocol's subclass is what the actor
 * calls back to encode and to deliver the response — and tellUpstreamRead, a read told to the actor.
 *
 * Bodies are handed over without a copy when the actor takes the message on the proxy's own stack
 * (`taken`); a message left queued keeps a copy, because the caller may reuse its buffer.
 */
import type { ActorRef, UpstreamPhaseMsg } from '../../types/actor.js';
import type { HeaderMap, RequestFrame } from '../../types/protocol.js';
import type { UpstreamResponseReceiver, UpstreamStream } from '../../types/proxy.js';

export abstract class ActorUpstreamStream implements UpstreamStream {
  protected readonly ref: ActorRef<UpstreamPhaseMsg>;
  readonly seq: number;
  protected readonly receiver: UpstreamResponseReceiver;
  /** The proxy reset the stream: nothing more is delivered to it, whether or not the actor handled the reset yet. */
  protected abandoned = false;

  constructor(ref: ActorRef<UpstreamPhaseMsg>, seq: number, receiver: UpstreamResponseReceiver) {
    this.ref = ref;
    this.seq = seq;
    this.receiver = receiver;
  }

  sendHead(head: RequestFrame, body: Buffer | null, endOfStream: boolean): void {
    const msg: UpstreamPhaseMsg = { k: 'send-head', stream: this.seq, head, body, eos: endOfStream, taken: false };
    this.ref.tell(msg);
    if (!msg.taken && body !== null) msg.body = Buffer.from(body);
  }

  sendData(chunk: Buffer, endOfStream: boolean): void {
    const msg: UpstreamPhaseMsg = { k: 'send-data', stream: this.seq, chunk, eos: endOfStream, taken: false };
    this.ref.tell(msg);
    if (!msg.taken) msg.chunk = Buffer.from(chunk);
  }

  sendTrailers(trailers: HeaderMap): void {
    this.ref.tell({ k: 'send-trailers', stream: this.seq, trailers });
  }

  reset(reason: string): void {
    // From here the proxy has moved on (a retry, a local reply): nothing more is delivered to it.
    this.abandoned = true;
    this.ref.tell({ k: 'reset', stream: this.seq, reason });
  }
}

const EOF: UpstreamPhaseMsg = { k: 'eof' };

/**
 * A read from an upstream connection, told to its `upstream.phase` actor. The bytes are lent for the
 * call (the read buffer is reused by the next read): an idle actor takes them on this stack without a
 * copy; a message that had to queue behind others keeps a copy.
 */
export function tellUpstreamRead(ref: ActorRef<UpstreamPhaseMsg>, data: Buffer, endOfStream: boolean): void {
  if (data.length > 0) {
    const msg: UpstreamPhaseMsg = { k: 'bytes', data, taken: false };
    ref.tell(msg);
    if (!msg.taken) msg.data = Buffer.from(data);
  }
  if (endOfStream) ref.tell(EOF);
}
