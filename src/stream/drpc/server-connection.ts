/**
 * The ServerStreamConnection of a dRPC session (downstream_protocol drpc), on a PacketConnection:
 * each onData is one packet, each write one packet (src/network/listeners/packet-connection.ts).
 *
 *   packet ─▶ ChunkAssembler ─▶ message ─▶ Call? ─no─▶ Response{sequence −1, FAILED_UNMARSHAL_CALL}
 *                                            │yes
 *                                            ▼
 *            reading paused ─▶ DrpcServerStream ─▶ stream filters ─▶ proxy ─▶ answer ─▶ reading resumed
 *
 * One call at a time, as DAOS's server has it: the next packet is read only once the call is
 * answered, so a session holds at most one message (ringside.limits.max_body_bytes bounds it) and a
 * synchronous client is never answered out of order. Framing errors (chunks out of order, lying
 * sizes, a message past the limit) close the session with no answer, as DAOS does; the worker and
 * every other session carry on.
 */
import { RingsideError } from '../../common/errors.js';
import { counter } from '../../common/counters.js';
import { logger } from '../../common/log.js';
import { CloseMode, ConnectionEvent, type Connection } from '../../types/network.js';
import {
  StreamResetReason,
  type PendingBudget,
  type ServerStreamConnection,
  type ServerStreamConnectionOptions,
  type StreamFilterChainFactory,
  type StreamHandlerFactory,
} from '../../types/stream.js';
import { ChunkAssembler, FramingError, toPackets } from '../../drpc/framing.js';
import { Status, decodeCall, encodeResponse, type Call } from '../../drpc/messages.js';
import { DRPC_PROTOCOL, callFrame, replyFrame, type DrpcReplyFrame } from '../../protocol/drpc/frames.js';
import { replyOfError } from '../../protocol/drpc/codec.js';
import { PacketConnection } from '../../network/listeners/packet-connection.js';
import { DrpcServerStream, type DrpcStreamOwner } from './server-stream.js';
import { maxMessageBytesOf } from './index.js';

const log = logger('stream.drpc');
const calls = counter('drpc.downstream.calls');
const badSessions = counter('drpc.downstream.framing_errors');
const undecodable = counter('drpc.downstream.undecodable_calls');
const busy = counter('drpc.downstream.busy');


class DrpcServerConnection implements ServerStreamConnection, DrpcStreamOwner {
  readonly connection: Connection;
  readonly handlerFactory: StreamHandlerFactory;
  readonly filters: readonly StreamFilterChainFactory[];
  readonly #assembler: ChunkAssembler;
  readonly #budget: PendingBudget | undefined;
  readonly #drain: ServerStreamConnectionOptions['drain'];
  #active: DrpcServerStream | null = null;
  #holdsSlot = false;
  #nextId = 1;
  #draining = false;
  #closed = false;

  constructor(connection: Connection, options: ServerStreamConnectionOptions) {
    this.connection = connection;
    this.handlerFactory = options.handlerFactory;
    this.filters = options.filters ?? [];
    this.#assembler = new ChunkAssembler(maxMessageBytesOf(options.limits));
    this.#budget = options.pendingBudget;
    this.#drain = options.drain;
    connection.addEventListener((event) => {
      if (event === ConnectionEvent.RemoteClose || event === ConnectionEvent.LocalClose) this.#onClosed();
    });
    this.#drain?.add(this);
  }

  get protocol(): string {
    return DRPC_PROTOCOL;
  }

  get activeStreams(): number {
    return this.#active === null ? 0 : 1;
  }

  onData(packet: Buffer, _endOfStream: boolean): void {
    if (this.#closed || packet.length === 0) return;
    let r;
    try {
      r = this.#assembler.push(packet);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      badSessions.inc();
      log.debug(`drpc session ${this.connection.id}: ${err.message}; closing`);
      this.#close(CloseMode.NoFlush, `bad dRPC input: ${err.message}`);
      return;
    }
    if (r.done) this.#onMessage(r.message);
  }

  /** Drain: the call in flight is answered, then the session closes; an idle session closes now. */
  goAway(): void {
    if (this.#draining || this.#closed) return;
    this.#draining = true;
    if (this.#active === null) this.#close(CloseMode.FlushWrite, 'drained');
  }

  abort(error: RingsideError): void {
    if (this.#closed) return;
    const s = this.#active;
    if (s !== null && !s.headersSent) this.#send(replyOfError(s.downstreamSequence, error));
    this.#close(CloseMode.FlushWrite, `aborted: ${error.message}`);
  }

  // ── DrpcStreamOwner ──
  answer(reply: DrpcReplyFrame): void {
    this.#send(reply);
  }

  streamDone(stream: DrpcServerStream): void {
    if (this.#active !== stream) return;
    this.#active = null;
    this.#release();
    if (this.#closed) return;
    if (this.#draining) this.#close(CloseMode.FlushWrite, 'drained');
    else this.connection.setReadEnabled(true);
  }

  #onMessage(message: Buffer): void {
    let call: Call;
    try {
      call = decodeCall(message);
    } catch {
      // DAOS answers a message that is not a Call with sequence −1 and goes on reading.
      undecodable.inc();
      this.#send(replyFrame(-1, Status.FAILED_UNMARSHAL_CALL));
      return;
    }
    calls.inc();
    const budget = this.#budget;
    if (this.#draining || (budget !== undefined && budget.held >= budget.max)) {
      busy.inc();
      if (budget !== undefined && budget.held >= budget.max) budget.refused++;
      const why = this.#draining ? 'the listener is draining' : `listener ${budget!.listenerName} holds ${budget!.max} requests`;
      this.#send(replyOfError(call.sequence, new RingsideError('OVERFLOW', 'internal', why)));
      return;
    }
    // Synchronous protocol: nothing more is read from this session until the call is answered.
    this.connection.setReadEnabled(false);
    const stream = new DrpcServerStream(this, this.#nextId++, callFrame(call.module, call.method, call.sequence, call.body));
    this.#active = stream;
    if (budget !== undefined) {
      budget.held++;
      this.#holdsSlot = true;
    }
    stream.start();
  }

  #send(reply: DrpcReplyFrame): void {
    if (this.#closed) return;
    const bytes = encodeResponse({ sequence: reply.requestId, status: reply.status, body: reply.body });
    for (const p of toPackets(bytes)) this.connection.write(p);
  }

  #close(mode: CloseMode, reason: string): void {
    if (this.#closed) return;
    this.#resetActive();
    this.connection.close(mode, reason);
  }

  #onClosed(): void {
    if (this.#closed) return;
    this.#resetActive();
  }

  #resetActive(): void {
    this.#closed = true;
    this.#drain?.delete(this);
    const s = this.#active;
    this.#active = null;
    this.#release();
    // The peer hung up mid-call (or the session failed): the proxy abandons the upstream call now.
    s?.resetByConnection(StreamResetReason.ConnectionClosed);
  }

  #release(): void {
    if (!this.#holdsSlot) return;
    this.#holdsSlot = false;
    this.#budget!.held--;
  }
}

/** The stream connection of a dRPC session: it serves PacketConnections only. */
export function drpcServerConnection(connection: Connection, options: ServerStreamConnectionOptions): ServerStreamConnection {
  if (!(connection instanceof PacketConnection)) {
    // The config loader refuses downstream_protocol drpc on any but a drpc: listener; this is the
    // last word should a filter chain be built some other way.
    throw new Error(`downstream_protocol drpc needs a drpc:/path listener (connection ${connection.id} on ${connection.listenerName} is a byte stream)`);
  }
  return new DrpcServerConnection(connection, options);
}
