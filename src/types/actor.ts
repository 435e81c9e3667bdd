/**
 * The actor runtime that hosts Ringside's data plane on worker threads.
 *
 *   worker thread ─ RunLoop ─┬─ connection.read   (per connection: bytes in → read filters)
 *                            ├─ connection.write  (per connection: one transport write per batch)
 *                            ├─ upstream.phase    (per upstream connection: its codec and streams)
 *                            ├─ downstream.codec  (per downstream HTTP/2 connection: its engine)
 *                            ├─ proxy.downstream  (per request: the downstream phase machine)
 *                            ├─ ring.pump         (per RingPipe end)
 *                            └─ ring.bell         (per thread: parks it once for all its cross-thread ends)
 *
 * An actor handles one message at a time, in order. A run loop per worker drains mailboxes in bounded
 * batches so that no actor starves another. Delivery to an idle actor with an empty mailbox runs at
 * once on the caller's stack ("direct dispatch"): the I/O callback that produced the message is
 * itself a run-loop turn, and this keeps borrowed buffers (onread static buffers) valid without a copy.
 * A busy actor's messages are queued and handled in a later turn (the fallback every actor must
 * handle correctly).
 *
 * Supervision: an actor whose receive() throws is stopped at once (its mailbox dropped), the crash is
 * logged once with the actor's kind and counted, and its crashed() hook lets the owner reset what the
 * actor served (a connection, with its protocol's error). Messages told to a stopped actor are
 * dropped and counted as dead letters.
 */
import type { RingEndpoint } from './ring.js';
import type { HeaderMap, RequestFrame, ResponseFrame } from './protocol.js';
import type { StreamResetReason } from './stream.js';
import type { UpstreamClient } from './upstream.js';
import type { RingsideError } from './errors.js';
import type { Http2Deadline } from './http2.js';

export interface Actor<M> {
  /** Called for each message, one at a time, in the order they were told. */
  receive(msg: M): void;
  /** Called once after the actor is stopped; release what it holds. */
  stopped?(): void;
  /**
   * Called once when receive() threw, after the actor was stopped: the owner resets what the actor
   * served. A throw from here is logged and swallowed.
   */
  crashed?(error: unknown): void;
}

export interface ActorRef<M> {
  readonly id: number;
  /** The kind the actor was spawned as (what /stats groups by). */
  readonly kind: ActorKind;
  /** kind#id, for logs. */
  readonly name: string;
  /** Queues (or directly dispatches) a message. A message to a stopped actor is a dead letter. */
  tell(msg: M): void;
  readonly alive: boolean;
}

/**
 * The actor kinds on the request path. Other strings are allowed (tests, extensions), each counted
 * under its own name.
 */
export type ActorKind =
  | 'connection.read'
  | 'connection.write'
  | 'upstream.phase'
  | 'downstream.codec'
  | 'proxy.downstream'
  | 'ring.pump'
  | 'ring.bell'
  | (string & {});

/**
 * Spawn options. `direct: false` makes every delivery go through the mailbox — for an actor whose
 * tellers must never run it on their own stack (a ring pump told from inside write(), whose callers
 * are promised no callback from there).
 */
export interface SpawnOptions {
  readonly direct?: boolean;
}

/** Per actor kind, since the run loop started. */
export interface ActorKindStats {
  /** Actors of this kind alive now. */
  live: number;
  spawned: number;
  /** Messages told to live actors (direct and queued). */
  messages: number;
  /** Deliveries that went through a mailbox because the actor was busy (the queued fallback). */
  queued: number;
  /**
   * Times an actor of this kind ran: one per direct dispatch (one message on the teller's stack) and
   * one per mailbox drain (up to a batch of queued messages) in a run-loop turn.
   */
  turns: number;
  /** Actors of this kind stopped because receive() threw. */
  crashes: number;
  /** Messages told to an actor of this kind after it stopped. */
  deadLetters: number;
}

export interface RunLoopStats {
  actors: number;
  messages: number;
  turns: number;
  /** Turns that hit the batch bound and yielded to I/O before the ready queue was empty. */
  yields: number;
  maxQueueDepth: number;
  crashes: number;
  deadLetters: number;
  kinds: Record<string, ActorKindStats>;
}

export interface RunLoop {
  spawn<M>(kind: ActorKind, actor: Actor<M>, options?: SpawnOptions): ActorRef<M>;
  stop(ref: ActorRef<unknown>): void;
  stats(): RunLoopStats;
  /** Messages told so far on this run loop (RunLoopStats.messages without building the stats). */
  readonly messagesTold: number;
}

// ── The message unions, one per actor kind ────────────────────────────────────────────────────────

/** connection.read: bytes (or end of stream) from the transport, or a filter asking to resume. */
export type ConnectionReadMsg =
  | {
      readonly k: 'data';
      /** Borrowed while `taken` is false at tell time; copied by the teller when it was queued. */
      data: Buffer;
      readonly eos: boolean;
      /** Set by the actor when it handled the message (direct dispatch took the borrowed buffer). */
      taken: boolean;
    }
  | { readonly k: 'continue'; readonly index: number };

/**
 * connection.write: bytes to send (a bare Buffer, so a write allocates no envelope — the only member
 * that is not an object with `k`), or a control message.
 */
export type ConnectionWriteMsg = Buffer | { readonly k: 'flush' } | { readonly k: 'end' } | { readonly k: 'close' };

/**
 * upstream.phase — the upstream side of the phase machine, one per upstream connection: it owns the
 * connection's codec (HTTP/1.1: the response decoder and the one request in flight; HTTP/2: the
 * engine and every stream on it; X-protocol: the frame reader, request ids and calls in flight;
 * dRPC: the chunk assembler, the sequence counter and the one call in flight; tcp_proxy: the
 * session's connect attempts and half-close state, with the downstream's bytes as `send-data`). Members with a Buffer may carry a borrowed one (a read buffer, a
 * downstream chunk): `taken` is set by the actor when it handled the message on the teller's stack;
 * otherwise the teller copies.
 */
export type UpstreamPhaseMsg =
  // from the downstream phase machine (UpstreamStream calls); `stream` numbers the stream on its
  // connection, so a late message of a finished stream never reaches the next one
  | { readonly k: 'send-head'; readonly stream: number; readonly head: RequestFrame; body: Buffer | null; readonly eos: boolean; taken: boolean }
  | { readonly k: 'send-data'; readonly stream: number; chunk: Buffer; readonly eos: boolean; taken: boolean }
  | { readonly k: 'send-trailers'; readonly stream: number; readonly trailers: HeaderMap }
  | { readonly k: 'reset'; readonly stream: number; readonly reason: string }
  // multiplexed clients (HTTP/2): the proxy stops / restarts taking one stream's response body
  | { readonly k: 'receiving'; readonly stream: number; readonly enabled: boolean }
  // from the connection's read loop
  | { readonly k: 'bytes'; data: Buffer; taken: boolean }
  | { readonly k: 'eof' }
  // from the connection's events, or the pool closing the client
  | { readonly k: 'closed'; readonly reason: string }
  | { readonly k: 'close'; readonly reason: string }
  // the connection's start-up deadline passed (HTTP/2: no SETTINGS from the peer)
  | { readonly k: 'ready-timeout' }
  // one of the HTTP/2 engine's own deadlines passed (SETTINGS ack, header block): the actor applies
  // it with engine.expire(deadline, armed), a no-op when that arming was cleared meanwhile
  | { readonly k: 'engine-deadline'; readonly deadline: Http2Deadline; readonly armed: number }
  // the keepalive sweeper found the connection silent for an interval (X-protocol heartbeats)
  | { readonly k: 'keepalive-due'; readonly now: number }
  // tcp_proxy: connect attempt `attempt` (1, 2 …) of the session reached its host, or failed —
  // refused, reset, or the cluster's connect timeout passed (`reason` says which)
  | { readonly k: 'connected'; readonly attempt: number }
  | { readonly k: 'connect-failed'; readonly attempt: number; readonly reason: string }
  // tcp_proxy: a side of the session was idle past idle_timeout (its connection closes next)
  | { readonly k: 'idle-timeout'; readonly side: 'downstream' | 'upstream'; readonly reason: string };

/**
 * downstream.codec — one per downstream HTTP/2 connection (src/stream/http2/server-connection.ts):
 * it owns the connection's engine (preface, SETTINGS, HPACK, stream states, flow control) and the
 * Ringside streams by id. The read loop's bytes (the `proxy` filter tells them; `taken` as in
 * ConnectionReadMsg), the engine's deadlines, a drain's GOAWAY, the read loop's crash and the
 * connection's close reach it as messages. Each stream's response is framed by the engine on the
 * turn of the stream's own proxy.downstream actor (its sender).
 */
export type DownstreamCodecMsg =
  | { readonly k: 'bytes'; data: Buffer; readonly eos: boolean; taken: boolean }
  | { readonly k: 'engine-deadline'; readonly deadline: Http2Deadline; readonly armed: number }
  // drain: GOAWAY(NO_ERROR), answer the streams taken, then close
  | { readonly k: 'go-away' }
  // the connection's read loop crashed: GOAWAY(INTERNAL_ERROR), every stream reset
  | { readonly k: 'abort'; readonly reason: string }
  // the connection closed under the engine (peer, idle timeout, socket error)
  | { readonly k: 'closed'; readonly reason: string };

/**
 * proxy.downstream — the downstream phase machine of one request (src/proxy/downstream.ts). Its
 * inputs: the stream layer (the request), the pool (a client or a failure), the upstream stream (the
 * response) and the timers. `data` / `up-data` may carry a borrowed chunk: `taken` as above.
 */
export type DownstreamMsg =
  | { readonly k: 'headers'; readonly request: RequestFrame; readonly eos: boolean }
  | { readonly k: 'data'; chunk: Buffer; readonly eos: boolean; taken: boolean }
  | { readonly k: 'trailers'; readonly trailers: HeaderMap }
  | { readonly k: 'reset'; readonly reason: StreamResetReason }
  | { readonly k: 'pool-ready'; readonly client: UpstreamClient }
  | { readonly k: 'pool-failure'; readonly err: RingsideError }
  | { readonly k: 'up-head'; readonly head: ResponseFrame; readonly eos: boolean }
  | { readonly k: 'up-data'; chunk: Buffer; readonly eos: boolean; taken: boolean }
  | { readonly k: 'up-trailers'; readonly trailers: HeaderMap }
  | { readonly k: 'up-error'; readonly err: RingsideError; readonly headSent: boolean }
  | { readonly k: 'deadline' }
  | { readonly k: 'try-timeout' };

/**
 * ring.pump — one per RingPipe end: a pass over everything the peer may have changed (bytes, freed
 * space, half-close, close, reset), under the run loop's budget. `kick`: something changed on this
 * thread (a write, a resume, a local peer); `wake`: the parked end's doorbell rang (another thread).
 */
export type RingPumpMsg = { readonly k: 'kick' } | { readonly k: 'wake' };

/** What the thread's `ring.bell` holds of a cross-thread ring end that waits for work. */
export interface BellWaiter {
  /** A cheap look at the end's rings: is there something for its pump to do now? */
  readonly ready: boolean;
  /** Tells the end's pump to run (its `wake`). */
  ring(): void;
  /** The end's own `idle` and `forget` messages, made once so a park allocates nothing. */
  readonly idleMsg: RingBellMsg;
  readonly forgetMsg: RingBellMsg;
}

/**
 * ring.bell — one per thread with cross-thread ring ends (src/ring/bells.ts): `idle` from an end that
 * found nothing to do, `forget` from an end that finished, `poll` from the once-per-loop-iteration
 * look while the thread is awake, `rang` when the thread's doorbell rang while it was parked.
 */
export type RingBellMsg =
  | { readonly k: 'idle'; readonly waiter: BellWaiter }
  | { readonly k: 'forget'; readonly waiter: BellWaiter }
  | { readonly k: 'poll' }
  | { readonly k: 'rang' };

/**
 * The scheduler's advice on an in-process connection after its dial (channel pools ask it each time
 * a connection comes back idle). Implemented by the worker's in-process dialer.
 */
export interface PlacementAdvisor {
  /** True when the connection over `endpoint` should be closed and re-dialed: load moved since it was placed. */
  shouldRetire(endpoint: RingEndpoint): boolean;
}
