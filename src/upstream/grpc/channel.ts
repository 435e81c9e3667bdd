/**
 * Ringside's gRPC client channel (a ClientConn): a virtual connection to a set of targets, each a
 * subchannel of up to N HTTP/2 connections. Every call is picked anew by the channel's picker
 * (picker.ts) — round robin over fixed targets, or the cluster's own lb_type over a cluster's hosts —
 * then the least loaded connection of the subchannel picked, so calls spread across targets and
 * connections. A call waits while subchannels connect and fails fast (UNAVAILABLE) when every
 * target is in TRANSIENT_FAILURE, as gRPC does for calls without wait-for-ready; its deadline bounds
 * the wait and the call.
 *
 * Two ways to call:
 * - `stream()`: a raw call (any of the four kinds) whose length-prefixed body bytes the caller writes
 *   and reads as they come, with backpressure both ways (Dapr gRPC proxying).
 * - `unary()`: one message out, one in, with attempts under a retry policy (gRFC A6: retryable status
 *   codes, exponential backoff with jitter, server pushback, `grpc-previous-rpc-attempts`), and gzip
 *   message compression above a size threshold, run on the worker's offload pool (the `grpc` app channel).
 *   A stream the server never processed (refused, past its GOAWAY, connect failure) is retried
 *   transparently once more whatever the policy, as gRPC's transparent retry does.
 */
import { GrpcCode, RingsideError } from '../../common/errors.js';
import type { GrpcChannelOptions, GrpcClusterTargets, GrpcStream, GrpcStreamSink, GrpcUnaryResult, SubchannelState } from '../../types/grpc.js';
import type { Host } from '../../types/upstream.js';
import type { OffloadRunner } from '../../types/offload.js';
import type { PlacementAdvisor } from '../../types/actor.js';
import type { RingEndpoint } from '../../types/ring.js';
import { MessageDeframer, frameMessage } from './framing.js';
import { fieldValue, grpcTimeoutValue, statusOf } from './status.js';
import { Subchannel } from './subchannel.js';
import { ClusterPicker, StaticPicker, type SubchannelPicker } from './picker.js';
import type { GrpcSession } from './session.js';

export interface GrpcCallHead {
  /** `/package.Service/Method` */
  readonly path: string;
  readonly authority: string;
  /** Request metadata as a flat [name, value, …] list; names lower case, no pseudo-headers. */
  readonly metadata: readonly string[];
  /** Epoch ms the call must be over by; Infinity for none. */
  readonly deadline: number;
}

export interface GrpcChannelDeps {
  readonly dialInProcess: ((name: string) => RingEndpoint) | undefined;
  readonly placement?: PlacementAdvisor | undefined;
  readonly offload?: OffloadRunner | undefined;
}

export interface GrpcChannelStats {
  readonly targets: readonly { target: string; state: SubchannelState; connections: number; streams: number; dialed: number }[];
  readonly waiting: number;
}

/** Fields every gRPC request carries; metadata and grpc-timeout follow. */
function requestFields(head: GrpcCallHead, extra: readonly string[]): string[] {
  const fields = [':method', 'POST', ':scheme', 'http', ':path', head.path, ':authority', head.authority, 'content-type', 'application/grpc', 'te', 'trailers'];
  for (let i = 0; i < head.metadata.length; i += 2) fields.push(head.metadata[i]!, head.metadata[i + 1]!);
  for (let i = 0; i < extra.length; i++) fields.push(extra[i]!);
  if (head.deadline !== Infinity) fields.push('grpc-timeout', grpcTimeoutValue(head.deadline - Date.now()));
  return fields;
}

/** The caller gave up (an RpcCancel has this shape): set `cancelled`, then run `onCancel`. */
export interface CallCancel {
  cancelled: boolean;
  onCancel: (() => void) | null;
}

const cancelledError = (): RingsideError => new RingsideError('CANCELLED', 'downstream', 'the caller cancelled the call');
const deadlineError = (): RingsideError => new RingsideError('TIMEOUT', 'upstream', 'deadline exceeded before the call was answered');

export class GrpcChannel {
  readonly #picker: SubchannelPicker;
  readonly #options: GrpcChannelOptions;
  readonly #offload: OffloadRunner | undefined;
  /** Calls waiting for a connection with a free stream slot, oldest first. */
  readonly #waiting = new Set<PendingCall>();
  #closed = false;

  /** `targets`: fixed addresses (round robin), or a cluster whose lb_type picks among its hosts. */
  constructor(targets: readonly string[] | GrpcClusterTargets, options: GrpcChannelOptions, deps: GrpcChannelDeps) {
    if (Array.isArray(targets) && targets.length === 0) throw new Error('a gRPC channel needs at least one target');
    this.#options = options;
    this.#offload = deps.offload;
    const make = (t: string): Subchannel =>
      new Subchannel(t, {
        dialInProcess: deps.dialInProcess,
        placement: deps.placement,
        http2: options.http2 ?? {},
        backoff: options.backoff,
        maxConnections: options.maxConnectionsPerTarget,
        onChange: (sub) => {
          this.#picker.changed(sub);
          this.#drainWaiting();
        },
      });
    this.#picker = Array.isArray(targets) ? new StaticPicker(targets as readonly string[], make) : new ClusterPicker(targets as GrpcClusterTargets, make);
  }

  stats(): GrpcChannelStats {
    return {
      targets: this.#picker.subchannels().map((s) => ({ target: s.target, state: s.state, connections: s.connections, streams: s.load, dialed: s.dialed })),
      waiting: this.#waiting.size,
    };
  }

  /** Starts a raw call; body bytes written before its stream opens are queued. */
  stream(head: GrpcCallHead, sink: GrpcStreamSink, extraFields: readonly string[] = []): GrpcStream {
    const call = new PendingCall(this, requestFields(head, extraFields), head.metadata, head.deadline, sink);
    if (this.#closed) {
      queueMicrotask(() => call.fail(new RingsideError('UNAVAILABLE', 'internal', 'the gRPC channel is closed')));
      return call;
    }
    if (!this.#tryStart(call)) this.#waiting.add(call);
    return call;
  }

  /** @internal a waiting call gave up (cancelled, deadline). */
  forget(call: PendingCall): void {
    this.#waiting.delete(call);
  }

  #tryStart(call: PendingCall): boolean {
    const r = this.#picker.pick(call);
    if (r.kind === 'wait') return false;
    if (r.kind === 'go') call.start(r.session, r.host);
    else queueMicrotask(() => call.fail(r.error));
    return true;
  }

  #drainWaiting(): void {
    for (const call of this.#waiting) {
      if (call.settled) {
        this.#waiting.delete(call);
        continue;
      }
      if (!this.#tryStart(call)) return;
      this.#waiting.delete(call);
    }
  }

  /** One request message, one response message, under the channel's retry policy. */
  async unary(head: GrpcCallHead, message: Buffer, cancel?: CallCancel): Promise<GrpcUnaryResult> {
    const policy = this.#options.retry;
    const maxAttempts = Math.min(5, Math.max(1, policy?.maxAttempts ?? 1));
    let compress = this.#options.gzipMinBytes !== undefined && message.length >= this.#options.gzipMinBytes;
    const payload = compress ? await this.#gzip(message) : message;
    if (compress && payload.length >= message.length) compress = false;
    const body = frameMessage(compress ? payload : message, compress);
    const encoding = compress ? ['grpc-encoding', 'gzip'] : [];
    const accept = this.#offload !== undefined || this.#options.gzipMinBytes !== undefined ? ['grpc-accept-encoding', 'identity,gzip'] : [];
    let backoff = policy?.initialBackoffMs ?? 0;
    let transparentLeft = 1;
    for (let attempt = 1; ; attempt++) {
      const previous = attempt > 1 ? ['grpc-previous-rpc-attempts', String(attempt - 1)] : [];
      if (cancel?.cancelled === true) throw cancelledError();
      const outcome = await this.#attempt(head, body, [...encoding, ...accept, ...previous], cancel);
      if (outcome.kind === 'answer') {
        const r = outcome.result;
        const retryable = policy !== undefined && r.code !== GrpcCode.OK && policy.retryableStatusCodes.has(r.code) && !outcome.committed;
        const pushback = fieldValue(r.trailers.length > 0 ? r.trailers : r.headers, 'grpc-retry-pushback-ms');
        // A pushback that is not a non-negative integer means "do not retry" (gRFC A6).
        const pushbackMs = pushback === undefined ? undefined : /^\d+$/.test(pushback) ? Number(pushback) : -1;
        if (!retryable || attempt >= maxAttempts || pushbackMs === -1) return { ...r, attempts: attempt };
        const wait = pushbackMs ?? Math.random() * backoff;
        backoff = Math.min(backoff * policy.backoffMultiplier, policy.maxBackoffMs);
        if (Date.now() + wait >= head.deadline) return { ...r, attempts: attempt };
        await delay(wait);
        continue;
      }
      const err = outcome.error;
      // Never processed by the server: safe to send again (transparent retry, then the policy's attempts).
      const unprocessed = err.retryable && !outcome.headersSeen;
      if (unprocessed && transparentLeft > 0 && Date.now() < head.deadline) {
        transparentLeft--;
        attempt--;
        continue;
      }
      const asStatus = err.code === 'TIMEOUT' ? GrpcCode.DEADLINE_EXCEEDED : GrpcCode.UNAVAILABLE;
      const retryable = policy !== undefined && unprocessed && policy.retryableStatusCodes.has(asStatus);
      if (!retryable || attempt >= maxAttempts || Date.now() + backoff >= head.deadline) throw err;
      await delay(Math.random() * backoff);
      backoff = Math.min(backoff * policy.backoffMultiplier, policy.maxBackoffMs);
    }
  }

  #attempt(
    head: GrpcCallHead,
    body: Buffer,
    extra: readonly string[],
    cancel: CallCancel | undefined,
  ): Promise<{ kind: 'answer'; result: Omit<GrpcUnaryResult, 'attempts'>; committed: boolean } | { kind: 'failed'; error: RingsideError; headersSeen: boolean }> {
    return new Promise((resolve) => {
      let headFields: string[] = [];
      let trailersOnly = false;
      const deframer = new MessageDeframer(this.#options.maxMessageBytes);
      const messages: { compressed: boolean; payload: Buffer }[] = [];
      let failed = false;
      const finish = (trailers: string[] | undefined): void => {
        if (failed) return;
        const { code, message } = statusOf(headFields, trailers);
        const first = messages[0];
        const encoding = fieldValue(headFields, 'grpc-encoding');
        const resultOf = (payload: Buffer | undefined): Omit<GrpcUnaryResult, 'attempts'> => ({
          code,
          message,
          headers: trailersOnly ? [] : withoutPseudo(headFields),
          trailers: trailersOnly ? withoutPseudo(headFields) : (trailers ?? []),
          body: payload,
        });
        // A Trailers-Only answer committed nothing: gRFC A6 still retries it.
        const committed = !trailersOnly;
        if (first === undefined || !first.compressed) {
          resolve({ kind: 'answer', result: resultOf(first?.payload), committed });
          return;
        }
        if (encoding !== 'gzip') {
          resolve({ kind: 'answer', result: { ...resultOf(undefined), code: GrpcCode.INTERNAL, message: `compressed message with grpc-encoding "${encoding ?? ''}"` }, committed });
          return;
        }
        this.#gunzip(first.payload).then(
          (p) => resolve({ kind: 'answer', result: resultOf(p), committed }),
          (e: unknown) =>
            resolve({ kind: 'answer', result: { ...resultOf(undefined), code: GrpcCode.INTERNAL, message: `cannot decompress the response: ${(e as Error).message}` }, committed }),
        );
      };
      const stream = this.stream(
        { ...head, metadata: head.metadata },
        {
          onHeaders: (fields, endStream) => {
            headFields = fields;
            if (endStream) {
              trailersOnly = true;
              finish(undefined);
            }
          },
          onData: (chunk, endStream) => {
            try {
              for (const m of deframer.push(chunk)) messages.push(m);
            } catch (e) {
              failed = true;
              stream.cancel();
              resolve({ kind: 'failed', error: e as RingsideError, headersSeen: true });
              return;
            }
            if (endStream) finish([]);
          },
          onTrailers: (fields) => finish(fields),
          onError: (error, headersSeen) => {
            if (failed) return;
            failed = true;
            resolve({ kind: 'failed', error, headersSeen });
          },
        },
        extra,
      );
      stream.write(body, true);
      if (cancel !== undefined) {
        cancel.onCancel = () => {
          if (failed) return;
          failed = true;
          stream.cancel();
          resolve({ kind: 'failed', error: cancelledError(), headersSeen: true });
        };
      }
    });
  }

  #gzip(data: Buffer): Promise<Buffer> {
    if (this.#offload === undefined) return import('node:zlib').then((z) => z.gzipSync(data));
    return this.#offload.run({ kind: 'gzip', data }).then((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));
  }

  #gunzip(data: Buffer): Promise<Buffer> {
    const maxOutput = this.#options.maxMessageBytes;
    if (this.#offload === undefined) return import('node:zlib').then((z) => z.gunzipSync(data, { maxOutputLength: maxOutput }));
    return this.#offload.run({ kind: 'gunzip', data, maxOutput }).then((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));
  }

  /** GOAWAY to every connection; waiting calls fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const call of this.#waiting) call.fail(new RingsideError('UNAVAILABLE', 'internal', 'the gRPC channel closed'));
    this.#waiting.clear();
    for (const s of this.#picker.subchannels()) s.close();
  }
}

/** A field list without its pseudo-header fields (what a caller sees as metadata). */
function withoutPseudo(fields: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < fields.length; i += 2) if (fields[i]!.charCodeAt(0) !== 58) out.push(fields[i]!, fields[i + 1]!);
  return out;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Request bytes a call may queue while it waits for a connection before its writer is told to pause. */
const QUEUE_LIMIT = 64 * 1024;

/** A call from the moment it is made: queued writes until a connection takes it, then its stream. */
class PendingCall implements GrpcStream, GrpcStreamSink {
  readonly #channel: GrpcChannel;
  readonly #fields: string[];
  /** What the picker reads (a hash key from metadata). */
  readonly metadata: readonly string[];
  /** The cluster host the call went to: its active-request count (least-request balancers read it). */
  #host: Host | undefined;
  readonly #sink: GrpcStreamSink;
  #stream: GrpcStream | null = null;
  #queued: Buffer[] = [];
  #queuedBytes = 0;
  #endQueued = false;
  #receiving = true;
  #timer: NodeJS.Timeout | undefined;
  settled = false;

  constructor(channel: GrpcChannel, fields: string[], metadata: readonly string[], deadline: number, sink: GrpcStreamSink) {
    this.#channel = channel;
    this.#fields = fields;
    this.metadata = metadata;
    this.#sink = sink;
    if (deadline !== Infinity) {
      this.#timer = setTimeout(() => {
        this.#stream?.cancel();
        this.fail(deadlineError());
      }, Math.max(0, deadline - Date.now()));
    }
  }

  /** Before a connection takes the call, more than QUEUE_LIMIT bytes queued count as blocked. */
  get blocked(): boolean {
    return this.#stream !== null ? this.#stream.blocked : this.#queuedBytes > QUEUE_LIMIT;
  }

  start(session: GrpcSession, host: Host | undefined): void {
    if (this.settled) return;
    if (host !== undefined) {
      this.#host = host;
      host.stats.activeRequests++;
      host.stats.totalRequests++;
    }
    const queued = this.#queued;
    this.#queued = [];
    const endOnly = this.#endQueued && queued.length === 0;
    this.#stream = session.open(this.#fields, endOnly, this);
    if (!this.#receiving) this.#stream.setReceiving(false);
    for (let i = 0; i < queued.length; i++) this.#stream.write(queued[i]!, this.#endQueued && i === queued.length - 1);
    const wasBlocked = this.#queuedBytes > QUEUE_LIMIT;
    this.#queuedBytes = 0;
    if (wasBlocked && !this.#stream.blocked) this.#sink.onWritable?.();
  }

  write(data: Buffer, endStream: boolean): void {
    if (this.settled) return;
    if (this.#stream !== null) {
      this.#stream.write(data, endStream);
      return;
    }
    this.#queued.push(Buffer.from(data));
    this.#queuedBytes += data.length;
    if (endStream) this.#endQueued = true;
  }

  end(): void {
    if (this.#stream !== null) this.#stream.end();
    else this.#endQueued = true;
  }

  cancel(): void {
    if (this.settled) return;
    this.#settle();
    this.#channel.forget(this);
    this.#stream?.cancel();
  }

  setReceiving(enabled: boolean): void {
    this.#receiving = enabled;
    this.#stream?.setReceiving(enabled);
  }

  fail(err: RingsideError): void {
    if (this.settled) return;
    this.#settle();
    this.#channel.forget(this);
    this.#sink.onError(err, false);
  }

  // ── GrpcStreamSink: from the stream, on to the caller ──

  onHeaders(fields: string[], endStream: boolean): void {
    if (this.settled) return;
    if (endStream) this.#settle();
    this.#sink.onHeaders(fields, endStream);
  }
  onData(chunk: Buffer, endStream: boolean): void {
    if (this.settled) return;
    if (endStream) this.#settle();
    this.#sink.onData(chunk, endStream);
  }
  onTrailers(fields: string[]): void {
    if (this.settled) return;
    this.#settle();
    this.#sink.onTrailers(fields);
  }
  onError(err: RingsideError, headersSeen: boolean): void {
    if (this.settled) return;
    this.#settle();
    this.#sink.onError(err, headersSeen);
  }
  onWritable(): void {
    if (!this.settled) this.#sink.onWritable?.();
  }

  #settle(): void {
    this.settled = true;
    clearTimeout(this.#timer);
    if (this.#host !== undefined) {
      this.#host.stats.activeRequests--;
      this.#host = undefined;
    }
  }
}
