/**
 * The downstream phase machine: one per request, the StreamHandler the stream layer hands the
 * request to. It walks MOSN's phases (src/proxy/phase.ts) in a `switch` loop that runs until a phase
 * has to wait — for the pool, for the upstream's answer — and picks up where it stopped when the
 * callback arrives. Errors never throw across layers: they become a local reply (before the response
 * head went out) or a stream reset (after).
 *
 *   onHeaders ─▶ Init → DownFilter → MatchRoute → DownFilterAfterRoute → ChooseHost
 *             → DownFilterAfterChooseHost → DownRecvHeader ┄(pool)┄▶ DownRecvData → DownRecvTrailer
 *             → WaitNotify ┄(upstream)┄▶ UpFilter → UpRecvHeader → UpRecvData → UpRecvTrailer → End
 *   a failed try whose retry policy allows another: Retry → ChooseHost (another host when there is one)
 *
 * It knows no protocol: local replies, the error → status mapping, which responses are retryable
 * failures, which requests are safe to resend, forwarded-for fields, the request's own timeout and
 * the authority come from the ProxyHooks of the request's protocol (src/types/protocol.ts).
 *
 * Each request is a `proxy.downstream` actor on the thread's run loop: the stream layer, the pool,
 * the upstream client and the timers only tell it a DownstreamMsg; the phases run in its receive().
 * A message told while the actor is idle runs on the teller's stack (a borrowed body chunk stays
 * valid); one told while it runs (the pool answering acquire() at once) waits in its mailbox, and a
 * queued chunk is copied. A receive() that throws stops the actor and the request is answered 500
 * (or reset once its response started).
 */
import { RingsideError, asRingsideError } from '../common/errors.js';
import { counter, type Counter } from '../common/counters.js';
import { enabled, logger } from '../common/log.js';
import { applyHeaderMutation } from '../router/mutations.js';
import type { HeaderMap, LocalReply, ProxyHooks, RequestFrame, ResponseFrame } from '../types/protocol.js';
import type { ResponseSender, StreamHandler, StreamInfo } from '../types/stream.js';
import { StreamResetReason } from '../types/stream.js';
import type { RouteMatch, RouteMatchContext } from '../types/router.js';
import type { Cluster, ConnectionPool, Host, PoolWaiter, UpstreamClient } from '../types/upstream.js';
import type { StreamClient, UpstreamResponseReceiver, UpstreamStream } from '../types/proxy.js';
import { SIDECAR_ERROR_HEADER } from '../types/proxy.js';
import { Phase, phaseNames } from './phase.js';
import { mutableView } from './headers.js';
import type { ProxyRuntime } from './runtime.js';
import { deadlineList, type DeadlineEntry, type DeadlineList } from './deadlines.js';
import { Tries, requestTimeoutMs } from './tries.js';
import { metrics } from '../observability/index.js';
import { RequestLog } from '../accesslog/record.js';
import { threadRunLoop } from '../actor/run-loop.js';
import type { Actor, ActorRef, DownstreamMsg } from '../types/actor.js';

const log = logger('proxy');
const phaseCounters: Counter[] = phaseNames.map((n) => counter(`proxy.phase.${n}`));
const retriesCounter = counter('proxy.retries');
const localReplies = counter('proxy.local_replies');
const DEADLINE: DownstreamMsg = { k: 'deadline' };

export class DownstreamRequest
  implements StreamHandler, UpstreamResponseReceiver, PoolWaiter, RouteMatchContext, DeadlineEntry, Actor<DownstreamMsg>
{
  readonly #rt: ProxyRuntime;
  readonly #stream: StreamInfo;
  readonly #sender: ResponseSender;
  #phase = Phase.InitPhase;
  #request: RequestFrame | null = null;
  /** The request protocol's hooks, known from onHeaders on. */
  #hooks: ProxyHooks | null = null;
  #requestEnded = false;
  #trailers: HeaderMap | null = null;
  /** Tries made, the per-try timer, the retry budget and the body held for a repeat (tries.ts). */
  readonly #tries = new Tries();
  #match: RouteMatch | null = null;
  #cluster: Cluster | undefined;
  #host: Host | undefined;
  #pool: ConnectionPool | undefined;
  #upstream: UpstreamStream | null = null;
  /** Access log facts; null unless the listener has access_logs. */
  #log: RequestLog | null = null;
  // DeadlineEntry: the route/global timeout, kept in a per-worker list rather than a Node timer.
  deadlinePrev: DeadlineEntry | null = null;
  deadlineNext: DeadlineEntry | null = null;
  deadlineList: DeadlineList | null = null;
  deadlineAt = 0;
  #done = false;
  /**
   * The response went to the sender (the upstream's head, or a local reply): a sender filter may hold
   * it or have thrown on it, so `headersSent` can still be false, but no second response may start.
   */
  #answering = false;
  // For ringside_requests_total / _request_duration_seconds: when the head arrived, what was answered.
  #startedAt = 0;
  #status = 0;
  /**
   * Inside pool.acquire(): a pool that answers on our own stack (an idle connection, a breaker's
   * refusal) is handled right after acquire() returns, in this same receive(), instead of as a queued
   * message and a run-loop turn of its own.
   */
  #inAcquire = false;
  #acquired: UpstreamClient | null = null;
  #acquireError: RingsideError | null = null;

  readonly #ref: ActorRef<DownstreamMsg>;

  constructor(rt: ProxyRuntime, stream: StreamInfo, sender: ResponseSender) {
    this.#rt = rt;
    this.#stream = stream;
    this.#sender = sender;
    // The request is its own actor (receive / crashed below): no closures per request.
    this.#ref = threadRunLoop().spawn<DownstreamMsg>('proxy.downstream', this);
  }

  // ── RouteMatchContext: what the router reads ──
  get authority(): string {
    return this.#hooks!.authority(this.#request!);
  }
  get path(): string {
    return this.#request!.path;
  }
  get method(): string {
    return this.#request!.method;
  }
  header(name: string): string | undefined {
    return this.#request!.headers.get(name);
  }

  // ── LoadBalancerContext: the route's hash_policy key, computed only when a hash balancer asks ──
  get hashKey(): string | undefined {
    return this.#match?.route.hashKey(this, this.#stream.connection.remoteAddress);
  }

  // ── StreamHandler: the downstream request ──
  #onHeaders(request: RequestFrame, endOfStream: boolean): void {
    this.#request = request;
    this.#hooks = this.#rt.hooks(request.protocol);
    this.#requestEnded = endOfStream;
    // A multiplexed downstream holds its body back (within its window) until an upstream takes it.
    if (!endOfStream) this.#sender.flow?.setReceiving(false);
    this.#startedAt = performance.now();
    if (this.#rt.accessLog !== undefined) {
      this.#log = new RequestLog(request, this.#stream.connection);
      if (endOfStream) this.#log.requestEnded();
    }
    this.#run(Phase.InitPhase);
  }

  #onData(chunk: Buffer, endOfStream: boolean): void {
    if (this.#done) return;
    if (endOfStream) this.#requestEnded = true;
    if (this.#log !== null) {
      this.#log.bytesReceived += chunk.length;
      if (endOfStream) this.#log.requestEnded();
    }
    const tries = this.#tries;
    if (this.#upstream !== null && tries.body.length === 0 && !tries.keepsBody(this.#match?.route.retryPolicy)) {
      this.#upstream.sendData(chunk, endOfStream);
      return;
    }
    tries.keep(chunk, this.#upstream !== null, this.#rt.retryBufferBytes);
    if (this.#upstream !== null) {
      this.#upstream.sendData(chunk, endOfStream);
    }
  }

  #onTrailers(trailers: HeaderMap): void {
    if (this.#done) return;
    this.#requestEnded = true;
    this.#log?.requestEnded();
    this.#trailers = trailers;
    if (this.#upstream !== null) this.#upstream.sendTrailers(trailers);
  }

  #onReset(reason: StreamResetReason): void {
    if (this.#done) return;
    if (enabled('debug')) log.debug(`stream ${this.#stream.id} reset by downstream: ${reason}`);
    this.#log?.failed('CANCELLED');
    this.#abandonUpstream(`downstream reset: ${reason}`);
    this.#finish();
  }

  // ── PoolWaiter ──
  #onPoolReady(client: UpstreamClient): void {
    if (this.#done) {
      this.#pool?.release(client);
      return;
    }
    const upstream = (client as StreamClient).newStream(this);
    this.#upstream = upstream;
    this.#wireFlow(upstream);
    this.#sendRequest(upstream);
  }

  /** Both sides multiplexed (HTTP/2): a slow reader on either side withholds the other side's window. */
  #wireFlow(upstream: UpstreamStream): void {
    const down = this.#sender.flow;
    const up = upstream.flow;
    if (down === undefined) return;
    if (up !== undefined) {
      down.onWatermark((above) => {
        if (this.#upstream === upstream) up.setReceiving(!above);
      });
      up.onWatermark((above) => {
        if (this.#upstream === upstream) down.setReceiving(!above);
      });
    }
    down.setReceiving(true);
  }

  #onPoolFailure(err: RingsideError): void {
    if (this.#done) return;
    metrics.upstreamError(this.#match!.clusterName!, err.code);
    this.#tryFailed(err, undefined);
  }

  // ── UpstreamResponseReceiver ──
  #onUpstreamHead(head: ResponseFrame, endOfStream: boolean): void {
    if (this.#done) return;
    this.#enter(Phase.UpFilter);
    const status = head.status;
    const upHooks = this.#rt.hooks(head.protocol);
    const retryStatus = upHooks.retryStatus(head);
    const grpcStatus = endOfStream ? upHooks.retryGrpcStatus?.(head) : undefined;
    if ((retryStatus !== undefined || grpcStatus !== undefined) && this.#mayRetry(undefined, retryStatus, upHooks.unprocessed(head), grpcStatus)) {
      // The answer is dropped, so the connection can't carry another request: reset it.
      this.#abandonUpstream(`retrying after status ${status}`);
      this.#retry();
      return;
    }
    this.#enter(Phase.UpRecvHeader);
    this.#status = status;
    // Ringside's error marker comes only from Ringside: an upstream's copy would pass its answer off
    // as the sidecar's failure to a runtime channel downstream.
    head.headers.remove(SIDECAR_ERROR_HEADER);
    const route = this.#match!.route;
    if (route.responseHeaders.length > 0) applyHeaderMutation(route.responseHeaders, mutableView(head.headers));
    this.#log?.responseStarted(head.status, head.headers);
    this.#answering = true;
    this.#sender.sendHeaders(head, endOfStream);
    if (endOfStream) this.#complete();
  }

  #onUpstreamData(chunk: Buffer, endOfStream: boolean): void {
    if (this.#done) return;
    this.#enter(Phase.UpRecvData);
    if (this.#log !== null) this.#log.bytesSent += chunk.length;
    this.#sender.sendData(chunk, endOfStream);
    if (endOfStream) this.#complete();
  }

  #onUpstreamTrailers(trailers: HeaderMap): void {
    if (this.#done) return;
    this.#enter(Phase.UpRecvTrailer);
    this.#sender.sendTrailers(trailers);
    this.#complete();
  }

  #onUpstreamError(err: RingsideError, headSent: boolean): void {
    if (this.#done) return;
    metrics.upstreamError(this.#match!.clusterName!, err.code);
    this.#upstream = null;
    if (headSent || this.#answering || this.#sender.headersSent) {
      // Part of the answer already went downstream: the only honest signal left is a reset.
      this.#resetDownstream(err);
      return;
    }
    this.#tryFailed(err, undefined);
  }

  // ── StreamHandler, PoolWaiter, UpstreamResponseReceiver, DeadlineEntry: each call is a message ──
  onHeaders(request: RequestFrame, endOfStream: boolean): void {
    this.#ref.tell({ k: 'headers', request, eos: endOfStream });
  }

  onData(chunk: Buffer, endOfStream: boolean): void {
    const msg: DownstreamMsg = { k: 'data', chunk, eos: endOfStream, taken: false };
    this.#ref.tell(msg);
    if (!msg.taken) msg.chunk = Buffer.from(chunk); // queued: the read buffer is reused
  }

  onTrailers(trailers: HeaderMap): void {
    this.#ref.tell({ k: 'trailers', trailers });
  }

  onReset(reason: StreamResetReason): void {
    this.#ref.tell({ k: 'reset', reason });
  }

  onPoolReady(client: UpstreamClient): void {
    if (this.#inAcquire) {
      this.#acquired = client;
      return;
    }
    if (!this.#ref.alive) {
      // Done before the pool answered: the client goes straight back.
      this.#pool?.release(client);
      return;
    }
    this.#ref.tell({ k: 'pool-ready', client });
  }

  onPoolFailure(err: RingsideError): void {
    if (this.#inAcquire) {
      this.#acquireError = err;
      return;
    }
    this.#ref.tell({ k: 'pool-failure', err });
  }

  onUpstreamHead(head: ResponseFrame, endOfStream: boolean): void {
    this.#ref.tell({ k: 'up-head', head, eos: endOfStream });
  }

  onUpstreamData(chunk: Buffer, endOfStream: boolean): void {
    const msg: DownstreamMsg = { k: 'up-data', chunk, eos: endOfStream, taken: false };
    this.#ref.tell(msg);
    if (!msg.taken) msg.chunk = Buffer.from(chunk);
  }

  onUpstreamTrailers(trailers: HeaderMap): void {
    this.#ref.tell({ k: 'up-trailers', trailers });
  }

  onUpstreamError(err: RingsideError, headSent: boolean): void {
    this.#ref.tell({ k: 'up-error', err, headSent });
  }

  /** The route/global timeout passed (the deadline list already dropped this entry). */
  onDeadline(): void {
    this.#ref.tell(DEADLINE);
  }

  /** Actor: the run loop hands each told message here, one at a time. */
  receive(msg: DownstreamMsg): void {
    switch (msg.k) {
      case 'headers':
        return this.#onHeaders(msg.request, msg.eos);
      case 'data':
        msg.taken = true;
        return this.#onData(msg.chunk, msg.eos);
      case 'trailers':
        return this.#onTrailers(msg.trailers);
      case 'reset':
        return this.#onReset(msg.reason);
      case 'pool-ready':
        return this.#onPoolReady(msg.client);
      case 'pool-failure':
        return this.#onPoolFailure(msg.err);
      case 'up-head':
        return this.#onUpstreamHead(msg.head, msg.eos);
      case 'up-data':
        msg.taken = true;
        return this.#onUpstreamData(msg.chunk, msg.eos);
      case 'up-trailers':
        return this.#onUpstreamTrailers(msg.trailers);
      case 'up-error':
        return this.#onUpstreamError(msg.err, msg.headSent);
      case 'deadline':
        return this.#onDeadline();
      case 'try-timeout':
        return this.#onTryTimeout();
    }
  }

  /**
   * Supervision: a phase threw (a sender filter, a protocol hook, a bug) and the actor is stopped.
   * The request is answered 500 when no response was started; otherwise — or when the error reply
   * itself throws (the same sender filter again) — the stream is reset, and the protocol answers what
   * it still can past the sender filters (HTTP/1.1: a 500 when nothing was written, else the close;
   * gRPC: INTERNAL).
   */
  crashed(err: unknown): void {
    const e = new RingsideError('INTERNAL', 'internal', `proxy phase machine crashed: ${err instanceof Error ? err.message : String(err)}`);
    try {
      if (!this.#done) this.#fail(e);
      else if (this.#answering) this.#sender.reset(StreamResetReason.LocalReset, e); // a local reply's filters threw
    } catch (again) {
      log.error(`stream ${this.#stream.id}: the error reply after a crash threw too; resetting the stream`, again);
      this.#sender.reset(StreamResetReason.LocalReset, e);
    }
  }

  // ── the phase loop ──
  #run(from: Phase): void {
    let phase = from;
    try {
      for (;;) {
        this.#enter(phase);
        switch (phase) {
          case Phase.InitPhase:
            phase = Phase.DownFilter;
            break;
          case Phase.DownFilter:
            // Receiver stream filters already ran in the stream layer before this handler existed.
            phase = Phase.MatchRoute;
            break;
          case Phase.MatchRoute:
            if (!this.#matchRoute()) return;
            phase = Phase.DownFilterAfterRoute;
            break;
          case Phase.DownFilterAfterRoute:
            // The route's timeout is known from here; it covers every try and the whole response.
            this.#startGlobalTimer();
            this.#rewriteRequest();
            phase = Phase.ChooseHost;
            break;
          case Phase.ChooseHost:
            if (!this.#chooseHost()) return;
            phase = Phase.DownFilterAfterChooseHost;
            break;
          case Phase.DownFilterAfterChooseHost:
            phase = Phase.DownRecvHeader;
            break;
          case Phase.DownRecvHeader:
            // Acquire may answer synchronously (idle connection); the request then goes out at once.
            this.#tries.start(this.#match?.route.retryPolicy, this.#ref);
            this.#acquire(this.#pool!);
            return;
          default:
            return;
        }
      }
    } catch (err) {
      this.#fail(asRingsideError(err));
    }
  }

  #acquire(pool: ConnectionPool): void {
    this.#inAcquire = true;
    try {
      pool.acquire(this);
    } finally {
      this.#inAcquire = false;
    }
    const client = this.#acquired;
    const err = this.#acquireError;
    this.#acquired = null;
    this.#acquireError = null;
    if (client !== null) this.#onPoolReady(client);
    else if (err !== null) this.#onPoolFailure(err);
  }

  #enter(phase: Phase): void {
    this.#phase = phase;
    phaseCounters[phase]!.inc();
    if (enabled('debug')) log.debug(`stream ${this.#stream.id} → ${phaseNames[phase]}`);
  }

  #matchRoute(): boolean {
    const match = this.#rt.router.match(this);
    const request = this.#request!;
    if (match === null) {
      const err = new RingsideError('NO_ROUTE', 'downstream', `no route for ${request.method} ${request.path}`, { retryable: false });
      this.#localReply(this.#hooks!.errorReply(request, err, this.#sender));
      return false;
    }
    this.#match = match;
    const action = match.route.action;
    if (action.kind === 'direct_response') {
      this.#localReply(this.#hooks!.directReply(request, action.status, action.body ?? '', this.#sender));
      return false;
    }
    const cluster = this.#rt.clusterManager.getCluster(match.clusterName!);
    if (cluster === undefined) {
      this.#fail(new RingsideError('NO_ROUTE', 'internal', `route ${match.route.name} names unknown cluster ${match.clusterName}`));
      return false;
    }
    this.#cluster = cluster;
    return true;
  }

  #rewriteRequest(): void {
    const request = this.#request!;
    const route = this.#match!.route;
    request.path = route.rewritePath(request.path);
    if (route.requestHeaders.length > 0) applyHeaderMutation(route.requestHeaders, mutableView(request.headers));
    this.#hooks!.addForwarded(request, this.#stream.connection.remoteAddress, this.#rt);
  }

  #chooseHost(): boolean {
    const cluster = this.#cluster!;
    // First try: the request itself is the balancer's context (it has header()), no wrapper per request.
    const host = cluster.chooseHost(this.#host === undefined ? this : this.#rt.lbContext(this, this.#host));
    if (host === undefined) {
      metrics.upstreamError(cluster.name, 'NO_HEALTHY_HOST');
      this.#fail(new RingsideError('NO_HEALTHY_HOST', 'upstream', `no healthy host in cluster ${cluster.name}`, { retryable: false }));
      return false;
    }
    this.#host = host;
    if (this.#log !== null) {
      this.#log.upstreamHost = host.address;
      this.#log.upstreamCluster = cluster.name;
    }
    this.#pool = this.#rt.clusterManager.connPool(host, this.#rt.clientFor(this.#match!.route, this.#request!.protocol));
    return true;
  }

  #sendRequest(upstream: UpstreamStream): void {
    const request = this.#request!;
    this.#enter(Phase.DownRecvHeader);
    const tries = this.#tries;
    const body = tries.body;
    if (this.#requestEnded && this.#trailers === null) {
      // The whole request is here: head and body in one write.
      upstream.sendHead(request, tries.joinedBody(), true);
    } else {
      upstream.sendHead(request, null, false);
      if (body.length > 0) {
        this.#enter(Phase.DownRecvData);
        for (let i = 0; i < body.length; i++) upstream.sendData(body[i]!, this.#requestEnded && this.#trailers === null && i === body.length - 1);
      }
      if (this.#trailers !== null) {
        this.#enter(Phase.DownRecvTrailer);
        upstream.sendTrailers(this.#trailers);
      }
    }
    if (!tries.keepsBody(this.#match?.route.retryPolicy)) tries.dropBody();
    if (this.#upstream === upstream) this.#enter(Phase.WaitNotify);
  }

  // ── retries and failures ──
  #tryFailed(err: RingsideError, status: number | undefined): void {
    this.#tries.clearTimer();
    if (this.#mayRetry(err, status)) {
      this.#retry();
      return;
    }
    this.#fail(err);
  }

  /** `unprocessed`: the failed response says the upstream did not act on the request. */
  #mayRetry(err: RingsideError | undefined, status: number | undefined, unprocessed = false, grpcStatus?: number): boolean {
    const policy = this.#match?.route.retryPolicy;
    if (policy === undefined) return false;
    const answered = this.#answering || this.#sender.headersSent;
    return this.#tries.allowsAnother(
      policy,
      answered,
      { err, status, unprocessed, grpcStatus, safeToResend: this.#hooks!.safeToRetry(this.#request!), requestEnded: this.#requestEnded },
      this.#cluster!.circuitBreaker,
    );
  }

  #retry(): void {
    retriesCounter.inc();
    this.#enter(Phase.Retry);
    this.#upstream = null;
    this.#run(Phase.ChooseHost);
  }

  #fail(err: RingsideError): void {
    if (this.#done) return;
    this.#log?.failed(err.code);
    this.#abandonUpstream(err.message);
    if (this.#answering || this.#sender.headersSent) {
      this.#resetDownstream(err);
      return;
    }
    if (enabled('debug')) log.debug(`stream ${this.#stream.id}: ${err.code} ${err.message}`);
    this.#localReply(this.#hooks!.errorReply(this.#request!, err, this.#sender));
  }

  #resetDownstream(err: RingsideError): void {
    if (enabled('debug')) log.debug(`stream ${this.#stream.id} reset after response started: ${err.message}`);
    this.#abandonUpstream(err.message);
    this.#finish();
    this.#sender.reset(StreamResetReason.LocalReset, err);
  }

  /** Sends a reply the protocol built for an error of Ringside's own or a direct response. */
  #localReply(reply: LocalReply): void {
    localReplies.inc();
    this.#answering = true;
    const head = reply.head;
    this.#status = head.status;
    if (this.#log !== null) {
      this.#log.responseStarted(head.status, head.headers);
      this.#log.bytesSent += reply.body === null ? 0 : reply.body.length;
    }
    this.#finish();
    this.#sender.send(head, reply.body);
  }

  #abandonUpstream(reason: string): void {
    const upstream = this.#upstream;
    this.#upstream = null;
    if (upstream !== null) upstream.reset(reason);
    else if (this.#pool !== undefined && this.#phase === Phase.DownRecvHeader) this.#pool.cancel(this);
  }

  #complete(): void {
    this.#upstream = null;
    this.#finish();
  }

  /** Ends the request once: timers cleared, retry budget returned. */
  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    threadRunLoop().stop(this.#ref);
    this.#enter(Phase.End);
    if (this.deadlineList !== null) this.deadlineList.remove(this);
    this.#tries.finish(this.#cluster?.circuitBreaker);
    metrics.requestCompleted(this.#stream.connection.listenerName, this.#match?.route.name ?? '', this.#match?.clusterName ?? '', this.#status, (performance.now() - this.#startedAt) * 1000);
    if (this.#log !== null) {
      this.#log.finished();
      this.#rt.accessLog!.log(this.#log);
      this.#log = null;
    }
  }

  // ── timeouts ──
  /** The request's deadline (tries.ts picks the timeout); it covers every try and the whole response. */
  #startGlobalTimer(): void {
    const ms = requestTimeoutMs(this.#match?.route.timeoutMs ?? 0, this.#rt.globalTimeoutMs, this.#hooks!.requestTimeoutMs(this.#request!));
    if (ms > 0) deadlineList(ms).add(this);
  }

  /** DeadlineEntry: the route/global timeout passed (the list already dropped this entry). */
  #onDeadline(): void {
    metrics.upstreamError(this.#match!.clusterName!, 'TIMEOUT');
    this.#fail(new RingsideError('TIMEOUT', 'upstream', `upstream did not answer within the route timeout`, { retryable: false }));
  }

  #onTryTimeout(): void {
    this.#tries.timerFired();
    // Another try may well be answered in time, unlike the route's own deadline.
    const err = new RingsideError('TIMEOUT', 'upstream', 'upstream did not answer within the per-try timeout', { retryable: true });
    metrics.upstreamError(this.#match!.clusterName!, err.code);
    this.#abandonUpstream(err.message);
    this.#tryFailed(err, undefined);
  }
}
