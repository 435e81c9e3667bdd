/**
 * The actor runtime that hosts Ringside's data plane on worker threads.
 *
 *   worker thread ─ RunLoop ─┬─ read-loop actor   (per connection)
 *                            ├─ write-loop actor  (per connection)
 *                            └─ phase-machine actors (per stream)
 *
 * An actor handles one message at a time, in order. A run loop per worker drains mailboxes in bounded
 * batches so that no actor starves another. Delivery to an idle actor with an empty mailbox runs at
 * once on the caller's stack ("direct dispatch"): the I/O callback that produced the message is
 * itself a run-loop turn, and this keeps borrowed buffers (onread static buffers) valid without a copy.
 */
export interface Actor<M> {
  /** Called for each message, one at a time, in the order they were told. */
  receive(msg: M): void;
  /** Called once after the actor is stopped; release what it holds. */
  stopped?(): void;
}

export interface ActorRef<M> {
  readonly id: number;
  readonly name: string;
  /** Queues (or directly dispatches) a message. A message to a stopped actor is dropped. */
  tell(msg: M): void;
  readonly alive: boolean;
}

export interface RunLoopStats {
  actors: number;
  messages: number;
  turns: number;
  /** Turns that hit the batch bound and yielded to I/O before the ready queue was empty. */
  yields: number;
  maxQueueDepth: number;
}

export interface RunLoop {
  spawn<M>(name: string, actor: Actor<M>): ActorRef<M>;
  stop(ref: ActorRef<unknown>): void;
  stats(): RunLoopStats;
}
