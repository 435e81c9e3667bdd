/**
 * A subchannel: the HTTP/2 connections of one channel to one target, with gRPC's connectivity states.
 *
 *   IDLE ──call──▶ CONNECTING ──SETTINGS──▶ READY ──last connection lost──▶ IDLE
 *                      │
 *                      └──connect failed──▶ TRANSIENT_FAILURE ──backoff passed──▶ CONNECTING (calls waiting) / IDLE
 *
 * READY holds 1..maxConnections sessions; a call takes the least loaded one that still has a stream
 * slot under the peer's SETTINGS_MAX_CONCURRENT_STREAMS, and when every one is full another is dialed
 * (up to the limit) while the call waits for it. Backoff follows gRPC's connection-backoff: each failed
 * connect multiplies the delay (with jitter) up to maxMs; a connect that succeeded resets it.
 */
import { dialTransport } from '../../runtime/channel/transport.js';
import { SubchannelState, type ConnectBackoff } from '../../types/grpc.js';
import type { Http2Settings } from '../../types/http2.js';
import type { RingEndpoint } from '../../types/ring.js';
import type { PlacementAdvisor } from '../../types/actor.js';
import { GrpcSession } from './session.js';

export interface SubchannelDeps {
  readonly dialInProcess: ((name: string) => RingEndpoint) | undefined;
  readonly placement?: PlacementAdvisor | undefined;
  readonly http2: Partial<Http2Settings>;
  readonly backoff: ConnectBackoff;
  readonly maxConnections: number;
  /** The subchannel's state changed, or a stream slot opened: waiting calls may go now. */
  readonly onChange: (sub: Subchannel) => void;
}

export class Subchannel {
  readonly target: string;
  readonly #deps: SubchannelDeps;
  readonly #sessions = new Set<GrpcSession>();
  #state = SubchannelState.Idle;
  #connecting = 0;
  #delayMs: number;
  #retryTimer: NodeJS.Timeout | undefined;
  #lastError = '';
  #wanted = false;
  #closed = false;
  /** Connections dialed since start (for stats and tests). */
  dialed = 0;

  constructor(target: string, deps: SubchannelDeps) {
    this.target = target;
    this.#deps = deps;
    this.#delayMs = deps.backoff.initialMs;
  }

  get state(): SubchannelState {
    return this.#state;
  }
  get lastError(): string {
    return this.#lastError;
  }
  get connections(): number {
    return this.#sessions.size;
  }
  /** Streams in flight over every connection. */
  get load(): number {
    let n = 0;
    for (const s of this.#sessions) n += s.load;
    return n;
  }

  /**
   * A connection with a free stream slot, or undefined (then a connect is under way when one is
   * possible: the caller waits for onChange).
   */
  pick(): GrpcSession | undefined {
    if (this.#closed) return undefined;
    let best: GrpcSession | undefined;
    for (const s of this.#sessions) {
      if (s.canOpen && (best === undefined || s.load < best.load)) best = s;
    }
    if (best !== undefined) return best;
    this.requestConnection();
    return undefined;
  }

  /** Starts a connection when none is being made and the limit allows (IDLE → CONNECTING, or growth). */
  requestConnection(): void {
    if (this.#closed || this.#connecting > 0) return;
    if (this.#state === SubchannelState.TransientFailure) {
      this.#wanted = true; // connects again when the backoff has passed
      return;
    }
    let usable = 0;
    for (const s of this.#sessions) if (!s.engine.goawayReceived) usable++;
    if (usable >= this.#deps.maxConnections) return;
    this.#connect();
  }

  #connect(): void {
    this.#connecting++;
    this.dialed++;
    if (this.#state !== SubchannelState.Ready) this.#setState(SubchannelState.Connecting);
    const timeout = Math.max(this.#deps.backoff.minConnectTimeoutMs, this.#delayMs);
    let session: GrpcSession;
    try {
      const transport = dialTransport(this.target, this.#deps.dialInProcess, this.#deps.placement);
      session = new GrpcSession(this.target, transport, this.#deps.http2, timeout, {
        onReady: () => {
          this.#connecting--;
          this.#delayMs = this.#deps.backoff.initialMs;
          this.#setState(SubchannelState.Ready);
        },
        onClosed: (s, reason, wasReady) => {
          this.#sessions.delete(s);
          if (!wasReady) {
            this.#connecting--;
            this.#failed(reason);
            return;
          }
          if (this.#sessions.size === 0 && this.#connecting === 0) this.#setState(SubchannelState.Idle);
          else this.#deps.onChange(this);
        },
        onStreamDone: () => this.#deps.onChange(this),
      });
    } catch (err) {
      // No such in-process listener (a config naming a listener another worker lacks): a failed connect.
      this.#connecting--;
      this.#failed((err as Error).message);
      return;
    }
    this.#sessions.add(session);
  }

  #failed(reason: string): void {
    this.#lastError = reason;
    if (this.#closed) return;
    // Other connections of this target still serve: only a target with none is in trouble.
    if (this.#sessions.size > 0) {
      this.#deps.onChange(this);
      return;
    }
    const b = this.#deps.backoff;
    const delay = this.#delayMs * (1 + b.jitter * (Math.random() * 2 - 1));
    this.#delayMs = Math.min(this.#delayMs * b.multiplier, b.maxMs);
    this.#wanted = false;
    this.#setState(SubchannelState.TransientFailure);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#closed) return;
      this.#setState(SubchannelState.Idle);
      if (this.#wanted) this.requestConnection();
    }, Math.max(0, delay));
    this.#retryTimer.unref?.();
  }

  #setState(next: SubchannelState): void {
    if (this.#state === next && next !== SubchannelState.Ready) return;
    this.#state = next;
    this.#deps.onChange(this);
  }

  /** GOAWAY to every connection; they close once their streams are done. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    for (const s of [...this.#sessions]) s.shutdown();
  }
}
