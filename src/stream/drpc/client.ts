/**
 * The dRPC upstream client (upstream_protocol drpc): one SOCK_SEQPACKET connection to a host whose
 * address is `drpc:/path.sock`, carrying one call at a time (capacity 1: the protocol is
 * synchronous), so the cluster's ordinary connection pool bounds it — max_connections per cluster,
 * max_pending_requests and the queue timeout for calls waiting for a free connection.
 *
 * Each connection numbers its calls 1, 2, 3 … (DAOS's client rule); the downstream's own sequence
 * stays with the downstream stream, which answers under it. A Response whose sequence is not the
 * call's (and not −1, the answer to an undecodable call) fails the call and the connection. A call
 * abandoned while in flight (route timeout, downstream gone) closes the connection: its late answer
 * would otherwise be taken for the next call's. A peer that closes mid-call fails the call at once
 * (the reactor reports POLLHUP while the call waits).
 *
 * Sockets are driven by the thread's dRPC reactor (src/drpc/reactor.ts). Each connection's side of
 * the phase machine is an `upstream.phase` actor on the worker's run loop: the reactor's packets and
 * close, the proxy's sends and reset and the pool's close reach it only as messages. An actor that
 * throws (a receiver with a bug) is stopped by the run loop: its call fails, its connection closes
 * and the pool forgets it.
 *
 *   reactor ─(bytes, closed)─▶ upstream.phase ─ assembler ─ sequence check ─▶ receiver (proxy)
 *   proxy ─(send-head/data/trailers, reset)─▶ upstream.phase ─ encodeCall ─▶ PacketSocket.send
 */
import { RingsideError } from '../../common/errors.js';
import { counter } from '../../common/counters.js';
import { threadRunLoop } from '../../actor/run-loop.js';
import type { ActorRef, RunLoop, UpstreamPhaseMsg } from '../../types/actor.js';
import type { RequestFrame, ResponseFrame } from '../../types/protocol.js';
import { ActorUpstreamStream } from '../../proxy/clients/actor-upstream-stream.js';
import type { StreamClient, StreamClientFactory, UpstreamResponseReceiver, UpstreamStream } from '../../types/proxy.js';
import type { ConnectCallback, Host, UpstreamClientEvents } from '../../types/upstream.js';
import { ChunkAssembler, FramingError, toPackets } from '../../drpc/framing.js';
import { errnoName } from '../../drpc/libc.js';
import { decodeResponse, encodeCall, type Response } from '../../drpc/messages.js';
import { PacketSocket } from '../../drpc/packet-socket.js';
import { threadReactor, type Reactor } from '../../drpc/reactor.js';
import { dialSeqpacket } from '../../drpc/sockets.js';
import { DRPC_PROTOCOL, isCallFrame, replyFrame } from '../../protocol/drpc/frames.js';

const connects = counter('drpc.upstream.cx_total');
const connectFailures = counter('drpc.upstream.cx_connect_fail');

export interface DrpcClientFactoryOptions {
  /** Largest response accepted (ringside.limits.max_body_bytes); a larger one fails the call and the connection. */
  maxMessageBytes: number;
  reactor?: Reactor;
  /** Defaults to this thread's run loop (the clients' actors run there). */
  runLoop?: RunLoop;
}

export class DrpcClientFactory implements StreamClientFactory {
  readonly protocol = DRPC_PROTOCOL;
  readonly #opts: DrpcClientFactoryOptions;

  constructor(opts: DrpcClientFactoryOptions) {
    this.#opts = opts;
  }

  /** A Unix connect completes at once (or fails at once: ENOENT, ECONNREFUSED, EACCES, EAGAIN when the backlog is full). */
  connect(host: Host, events: UpstreamClientEvents, done: ConnectCallback): void {
    const path = host.socketPath;
    if (path === undefined) {
      connectFailures.inc();
      done(new RingsideError('CONNECT_FAILED', 'upstream', `host ${host.address} of cluster ${host.clusterName} is not a dRPC socket (write it drpc:/path/to.sock)`, { retryable: false }), undefined);
      return;
    }
    const r = dialSeqpacket(path);
    if ('errno' in r) {
      connectFailures.inc();
      done(new RingsideError('CONNECT_FAILED', 'upstream', `connect ${errnoName(r.errno)} ${host.address}`, { retryable: true }), undefined);
      return;
    }
    connects.inc();
    done(undefined, new DrpcUpstreamClient(r.fd, host, events, this.#opts.maxMessageBytes, this.#opts.reactor ?? threadReactor(), this.#opts.runLoop ?? threadRunLoop()));
  }
}

/**
 * The connection's one call, from the pool's lease (newStream) until it ends. The proxy's calls are
 * told to the client's actor; the actor gathers the request here and delivers the answer.
 */
class DrpcCall extends ActorUpstreamStream {
  /** This connection's dRPC sequence of the call; 0 until the call is sent. */
  sequence = 0;
  head: RequestFrame | null = null;
  body: Buffer[] = [];

  // ── from the client's actor ──

  answer(frame: ResponseFrame): void {
    if (!this.abandoned) this.receiver.onUpstreamHead(frame, true);
  }

  fail(err: RingsideError): void {
    if (!this.abandoned) this.receiver.onUpstreamError(err, false);
  }
}

/**
 * One dRPC upstream connection. Its side of the phase machine is the connection's `upstream.phase`
 * actor: it owns the chunk assembler, the sequence counter and the call in flight, and every event
 * reaches it as a message (UpstreamPhaseMsg) — the reactor's packets and close, the proxy's sends and
 * reset, the pool's close. A packet is dispatched to it on the reactor's stack when it is idle (the
 * assembler copies what it keeps); a packet that had to queue is copied first.
 */
class DrpcUpstreamClient implements StreamClient {
  readonly capacity = 1;
  readonly #host: Host;
  readonly #events: UpstreamClientEvents;
  readonly #socket: PacketSocket;
  readonly #assembler: ChunkAssembler;
  readonly #runLoop: RunLoop;
  readonly #ref: ActorRef<UpstreamPhaseMsg>;
  /**
   * The call from the pool's lease until it ends — set outside the actor (a lease must make the
   * connection unavailable at once, before any message of it), cleared only by the actor.
   */
  #call: DrpcCall | null = null;
  #calls = 0;
  // Actor state (changed only in the actor's turns).
  #sequence = 0;
  #closed = false;

  constructor(fd: number, host: Host, events: UpstreamClientEvents, maxMessageBytes: number, reactor: Reactor, runLoop: RunLoop) {
    this.#host = host;
    this.#events = events;
    this.#runLoop = runLoop;
    this.#assembler = new ChunkAssembler(maxMessageBytes);
    this.#ref = runLoop.spawn<UpstreamPhaseMsg>('upstream.phase', {
      receive: (m) => this.#receive(m),
      crashed: (err) => this.#crashed(err),
    });
    this.#socket = new PacketSocket(fd, reactor, {
      onPacket: (p) => this.#onPacket(p),
      onClose: (reason, error) => {
        if (!this.#closed) this.#ref.tell({ k: 'closed', reason: error === undefined ? reason : `${reason}: ${error.message}` });
      },
    });
  }

  get available(): boolean {
    return !this.#closed && this.#call === null;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The pool closes the connection. */
  close(reason: string): void {
    if (!this.#closed) this.#ref.tell({ k: 'close', reason });
  }

  newStream(receiver: UpstreamResponseReceiver): UpstreamStream {
    const call = new DrpcCall(this.#ref, ++this.#calls, receiver);
    this.#call = call;
    return call;
  }

  /** The reactor's packet, borrowed for the call: copied when the message had to queue. */
  #onPacket(packet: Buffer): void {
    if (this.#closed) return;
    const msg: UpstreamPhaseMsg = { k: 'bytes', data: packet, taken: false };
    this.#ref.tell(msg);
    if (!msg.taken) msg.data = Buffer.from(packet);
  }

  // ── the upstream.phase actor ──

  #receive(msg: UpstreamPhaseMsg): void {
    switch (msg.k) {
      case 'bytes':
        msg.taken = true;
        if (!this.#closed) this.#onResponsePacket(msg.data);
        return;
      case 'eof':
        this.#close('upstream closed the connection');
        return;
      case 'closed':
        this.#close(msg.reason);
        return;
      case 'close':
        // The pool closes an idle connection; a call still on it is cut (retryable when never sent).
        this.#close(msg.reason);
        return;
      case 'send-head': {
        msg.taken = true;
        const call = this.#callOf(msg.stream);
        if (call === null || call.head !== null) return;
        call.head = msg.head;
        if (msg.body !== null && msg.body.length > 0) call.body.push(msg.body);
        if (msg.eos) this.#sendCall(call);
        return;
      }
      case 'send-data': {
        msg.taken = true;
        const call = this.#callOf(msg.stream);
        if (call === null || call.head === null) return;
        if (msg.chunk.length > 0) call.body.push(Buffer.from(msg.chunk));
        if (msg.eos) this.#sendCall(call);
        return;
      }
      case 'send-trailers': {
        const call = this.#callOf(msg.stream);
        if (call !== null && call.head !== null) this.#sendCall(call);
        return;
      }
      case 'reset': {
        const call = this.#callOf(msg.stream);
        if (call === null) return;
        this.#call = null;
        // Sent and unanswered: the answer would arrive for the next call. Never sent: the connection is clean.
        if (call.sequence !== 0) this.#close(`call abandoned: ${msg.reason}`);
        else if (!this.#closed) this.#events.onIdle();
        return;
      }
      case 'receiving':
      case 'ready-timeout':
      case 'keepalive-due':
        return; // one unary call at a time: no per-stream flow control, no start-up deadline, no keepalive
    }
  }

  /** The call a message is for: the one in flight, if the message is its own. */
  #callOf(seq: number): DrpcCall | null {
    const call = this.#call;
    return call !== null && call.seq === seq && !this.#closed ? call : null;
  }

  #sendCall(call: DrpcCall): void {
    if (call.sequence !== 0) return;
    const head = call.head!;
    if (!isCallFrame(head)) {
      this.#call = null;
      try {
        call.fail(new RingsideError('BAD_REQUEST', 'internal', `a ${head.protocol} request cannot be sent to dRPC host ${this.#host.address}`, { retryable: false }));
      } finally {
        if (!this.#closed) this.#events.onIdle();
      }
      return;
    }
    const parts = call.body;
    const body = parts.length === 0 ? head.body : parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    call.body = [];
    call.sequence = ++this.#sequence;
    const bytes = encodeCall({ module: head.moduleId, method: head.methodId, sequence: call.sequence, body });
    this.#socket.send(toPackets(bytes));
  }

  #onResponsePacket(packet: Buffer): void {
    let r;
    try {
      r = this.#assembler.push(packet);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.#failCall(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `bad dRPC framing from ${this.#host.address}: ${err.message}`, { retryable: false }));
      return;
    }
    if (!r.done) return;
    const call = this.#call;
    if (call === null || call.sequence === 0) {
      this.#failCall(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `${this.#host.address} sent a response with no call in flight`));
      return;
    }
    let resp: Response;
    try {
      resp = decodeResponse(r.message);
    } catch (err) {
      this.#failCall(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `undecodable dRPC response from ${this.#host.address}: ${(err as Error).message}`, { retryable: false }));
      return;
    }
    if (resp.sequence !== call.sequence && resp.sequence !== -1) {
      this.#failCall(new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', `${this.#host.address} answered sequence ${resp.sequence} to call ${call.sequence}`, { retryable: false }));
      return;
    }
    // The call stays in flight until the receiver took the answer: a receiver that throws crashes the
    // actor, and supervision fails this call rather than lose it.
    call.answer(replyFrame(call.head!.requestId, resp.status, resp.body));
    this.#call = null;
    if (!this.#closed) this.#events.onIdle();
  }

  /** Fails the call in flight with `err` and closes the connection. */
  #failCall(err: RingsideError): void {
    const call = this.#call;
    this.#call = null;
    try {
      call?.fail(err);
    } finally {
      this.#close(err.message);
    }
  }

  /**
   * The connection ends (the peer hung up, a protocol error, the pool, an abandoned call): a call
   * still on it fails now, the socket closes, the actor stops and the pool forgets the connection.
   */
  #close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const call = this.#call;
    this.#call = null;
    this.#socket.close(reason);
    try {
      if (call !== null) {
        // Never sent: nothing reached the upstream, so another try may take it (retryable).
        const sent = call.sequence !== 0;
        call.fail(new RingsideError('UPSTREAM_RESET', 'upstream', `dRPC host ${this.#host.address} closed the connection${sent ? ' mid-call' : ''}: ${reason}`, { retryable: !sent }));
      }
    } finally {
      // Even when a receiver throws on the failure, the actor stops and the pool forgets the connection.
      this.#runLoop.stop(this.#ref);
      this.#events.onClose(reason);
    }
  }

  /** Supervision: the actor threw (a receiver, the codec): the call in flight fails and the connection is closed. */
  #crashed(err: unknown): void {
    const reason = `upstream client crashed: ${err instanceof Error ? err.message : String(err)}`;
    const call = this.#call;
    this.#call = null;
    if (this.#closed) return;
    try {
      call?.fail(new RingsideError('UPSTREAM_RESET', 'upstream', `dRPC ${reason}`, { retryable: false }));
    } finally {
      this.#close(reason);
    }
  }
}
