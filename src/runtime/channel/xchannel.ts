/**
 * Layotto's xChannel for request-id protocols (`bolt`, `boltv2`, `dubbo`): a pool of at most `size`
 * connections, each carrying many calls at once, matched by request id. A call takes a connection,
 * writes its frame and gives the connection back at once (Layotto puts it back right after the
 * write); its answer arrives through the connection's reader. A connection that breaks fails every
 * call waiting on it at once. The protocol-specific half is an XChannelProtocol.
 *
 * Control metadata (Layotto/SOFA keys, consumed here, not forwarded):
 *   rpc_request_timeout  ms this call may take (the caller's deadline still ends it earlier)
 *   rpc_request_type     `oneway`: send without waiting for an answer (answered at once, empty)
 *   rpc_target_address   host:port to send this call to directly instead of the channel's listener
 */
import { RingsideError, asRingsideError } from '../../common/errors.js';
import type { Channel, ChannelEnv, ChannelStats, RpcRequest, RpcResponse } from '../../types/runtime.js';
import type { ChannelConfig } from './factory.js';
import type { XAnswer, XAnswerReader, XCall, XChannelProtocol } from '../../types/xchannel.js';
import { ConnPool } from './pool.js';
import { dialTransport, type ChannelTransport } from './transport.js';

export const RPC_REQUEST_TIMEOUT = 'rpc_request_timeout';
export const RPC_REQUEST_TYPE = 'rpc_request_type';
export const RPC_TARGET_ADDRESS = 'rpc_target_address';
const CONTROL = new Set([RPC_REQUEST_TIMEOUT, RPC_REQUEST_TYPE, RPC_TARGET_ADDRESS, 'verb', 'query_string', 'content-length', 'content-type']);

/** MOSN's keepalive for request-id pools: a heartbeat after 15 s idle, closed after 90 s unanswered. */
export const HEARTBEAT_INTERVAL_MS = 15_000;
export const HEARTBEAT_DEAD_MS = 90_000;
/** Distinct rpc_target_address pools one channel keeps at most (each up to `size` connections). */
export const MAX_TARGET_POOLS = 64;

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** One call waiting for its answer. */
class PendingCall {
  readonly call: XCall;
  readonly #resolve: (r: RpcResponse) => void;
  readonly #reject: (e: RingsideError) => void;
  #timer: NodeJS.Timeout | undefined;
  settled = false;
  conn: XConn | null = null;
  id = 0;

  constructor(call: XCall, resolve: (r: RpcResponse) => void, reject: (e: RingsideError) => void) {
    this.call = call;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  arm(timeoutMs: number): void {
    if (timeoutMs !== Infinity) {
      this.#timer = setTimeout(() => this.fail(new RingsideError('TIMEOUT', 'upstream', `no response within ${timeoutMs} ms`)), timeoutMs);
    }
    this.call.req.cancel.onCancel = () => this.fail(new RingsideError('CANCELLED', 'downstream', 'the caller cancelled'));
  }

  #settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.call.req.cancel.onCancel = null;
    this.conn?.forget(this.id, this);
    this.conn = null;
    return true;
  }

  succeed(r: RpcResponse): void {
    if (this.#settle()) this.#resolve(r);
  }

  fail(err: unknown): void {
    if (this.#settle()) this.#reject(asRingsideError(err));
  }
}

/** One pooled connection: many calls in flight, a u32 id counter that wraps and skips ids in use. */
class XConn {
  readonly transport: ChannelTransport;
  readonly #reader: XAnswerReader;
  readonly #protocol: XChannelProtocol;
  readonly #calls = new Map<number, PendingCall>();
  #nextId = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #lastRead = Date.now();
  #lastWrite = Date.now();

  constructor(transport: ChannelTransport, shared: XChannelProtocol, maxBytes: number) {
    this.transport = transport;
    const protocol = shared.connection?.() ?? shared;
    this.#protocol = protocol;
    this.#reader = protocol.reader(
      (a) => this.#onAnswer(a),
      (err) => {
        const mapped = err.code === 'LIMIT_EXCEEDED' ? err : new RingsideError('UPSTREAM_BAD_RESPONSE', 'upstream', err.message, { cause: err });
        this.#failAll(mapped);
        transport.destroy('bad response bytes');
      },
      maxBytes,
      (bytes) => transport.write(bytes),
    );
    transport.onData = (chunk) => {
      this.#lastRead = Date.now();
      this.#reader.push(chunk);
    };
    transport.onClose = (reason, connected) => {
      this.#reader.destroy();
      if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
      this.#failAll(
        connected
          ? new RingsideError('UPSTREAM_RESET', 'upstream', `channel connection closed before the response: ${reason}`)
          : new RingsideError('CONNECT_FAILED', 'upstream', `channel connect failed: ${reason}`),
      );
    };
    if (protocol.heartbeat !== undefined) {
      this.#heartbeat = setInterval(() => this.#tick(), HEARTBEAT_INTERVAL_MS);
      this.#heartbeat.unref();
    }
  }

  get closed(): boolean {
    return this.transport.closed;
  }
  get misplaced(): boolean {
    // A connection with calls in flight stays: closing it would fail them.
    return this.#calls.size === 0 && this.transport.misplaced;
  }
  get inFlight(): number {
    return this.#calls.size;
  }

  destroy(reason: string): void {
    this.transport.destroy(reason);
  }

  /** The next id not in use (u32, wraps past 0xffffffff back to 1; 0 is never used). */
  nextId(): number {
    for (;;) {
      this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
      if (!this.#calls.has(this.#nextId)) return this.#nextId;
    }
  }

  /** The call's frame as this connection's protocol writes it. */
  frame(call: XCall, id: number, body: Buffer): Buffer {
    return this.#protocol.frame(call, id, body);
  }

  send(pending: PendingCall, bytes: Buffer): void {
    if (!pending.call.oneway) {
      pending.conn = this;
      this.#calls.set(pending.id, pending);
    }
    this.#lastWrite = Date.now();
    this.transport.write(bytes);
  }

  forget(id: number, pending: PendingCall): void {
    if (this.#calls.get(id) === pending) this.#calls.delete(id);
  }

  #onAnswer(a: XAnswer): void {
    if (a.heartbeat) return;
    const pending = this.#calls.get(a.id);
    // An answer nobody waits for (its call timed out or was cancelled) is dropped.
    if (pending === undefined) return;
    this.#calls.delete(a.id);
    pending.conn = null;
    let out: RpcResponse | Promise<RpcResponse>;
    try {
      out = this.#protocol.toResponse(a.frame, pending.call);
    } catch (err) {
      pending.fail(err);
      return;
    }
    if (out instanceof Promise) out.then((r) => pending.succeed(r), (err: unknown) => pending.fail(err));
    else pending.succeed(out);
  }

  #tick(): void {
    const now = Date.now();
    if (now - this.#lastRead >= HEARTBEAT_DEAD_MS) {
      this.transport.destroy(`no answer for ${HEARTBEAT_DEAD_MS / 1000} s`);
      return;
    }
    if (now - this.#lastRead >= HEARTBEAT_INTERVAL_MS && now - this.#lastWrite >= HEARTBEAT_INTERVAL_MS / 2) {
      this.#lastWrite = now;
      this.transport.write(this.#protocol.heartbeat!(this.nextId()));
    }
  }

  #failAll(err: RingsideError): void {
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const c of calls) {
      c.conn = null;
      c.fail(err);
    }
  }
}

function headerNumber(req: RpcRequest, name: string): number | undefined {
  const raw = req.headers[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n <= 0) throw new RingsideError('BAD_REQUEST', 'downstream', `metadata ${name} must be a positive integer of milliseconds, got ${JSON.stringify(raw)}`);
  return n;
}

export class XChannel implements Channel {
  readonly #config: ChannelConfig;
  readonly #env: ChannelEnv;
  readonly #protocol: XChannelProtocol;
  readonly pool: ConnPool<XConn>;
  readonly #targets = new Map<string, ConnPool<XConn>>();

  constructor(config: ChannelConfig, env: ChannelEnv, protocol: XChannelProtocol) {
    this.#config = config;
    this.#env = env;
    this.#protocol = protocol;
    this.pool = this.#newPool(config.listener);
  }

  #newPool(listener: string): ConnPool<XConn> {
    return new ConnPool(this.#config.size, () => new XConn(dialTransport(listener, this.#env.dialInProcess, this.#env.placement), this.#protocol, this.#env.maxResponseBytes));
  }

  #poolFor(req: RpcRequest): ConnPool<XConn> {
    const target = req.headers[RPC_TARGET_ADDRESS];
    if (target === undefined || target === '') return this.pool;
    if (!HOST_PORT.test(target)) throw new RingsideError('BAD_REQUEST', 'downstream', `metadata ${RPC_TARGET_ADDRESS} must be host:port, got ${JSON.stringify(target)}`);
    let pool = this.#targets.get(target);
    if (pool === undefined) {
      if (this.#targets.size >= MAX_TARGET_POOLS) {
        throw new RingsideError('OVERFLOW', 'downstream', `this channel already holds pools for ${MAX_TARGET_POOLS} distinct ${RPC_TARGET_ADDRESS} values`);
      }
      pool = this.#newPool(target);
      this.#targets.set(target, pool);
    }
    return pool;
  }

  invoke(req: RpcRequest, timeoutMs: number): Promise<RpcResponse> {
    return new Promise<RpcResponse>((resolve, reject) => {
      let call: XCall;
      let pool: ConnPool<XConn>;
      try {
        const own = headerNumber(req, RPC_REQUEST_TIMEOUT);
        // The caller's deadline still bounds a timeout set in metadata.
        const left = req.deadline === Infinity ? Infinity : Math.max(1, req.deadline - Date.now());
        const timeout = own === undefined ? timeoutMs : Math.min(own, left);
        const type = req.headers[RPC_REQUEST_TYPE];
        if (type !== undefined && type !== 'oneway' && type !== 'sync') {
          throw new RingsideError('BAD_REQUEST', 'downstream', `metadata ${RPC_REQUEST_TYPE} must be "oneway" or "sync", got ${JSON.stringify(type)}`);
        }
        const headers: Record<string, string> = {};
        for (const k in req.headers) if (!CONTROL.has(k)) headers[k] = req.headers[k]!;
        call = { req, timeoutMs: timeout, oneway: type === 'oneway', json: isJson(req.contentType), headers };
        pool = this.#poolFor(req);
      } catch (err) {
        reject(asRingsideError(err));
        return;
      }
      if (req.cancel.cancelled) return reject(new RingsideError('CANCELLED', 'downstream', 'the caller cancelled'));
      const pending = new PendingCall(call, resolve, reject);
      pending.arm(call.timeoutMs);
      let body: Buffer | Promise<Buffer>;
      try {
        body = this.#protocol.body(call);
      } catch (err) {
        return pending.fail(err);
      }
      if (body instanceof Promise) body.then((b) => this.#send(pool, pending, b), (err: unknown) => pending.fail(err));
      else this.#send(pool, pending, body);
    });
  }

  #send(pool: ConnPool<XConn>, pending: PendingCall, body: Buffer): void {
    if (pending.settled) return;
    const ticket = pool.take((conn) => {
      if (conn instanceof RingsideError) return pending.fail(conn);
      if (pending.settled) return pool.release(conn, false);
      let bytes: Buffer;
      try {
        pending.id = conn.nextId();
        bytes = conn.frame(pending.call, pending.id, body);
      } catch (err) {
        pool.release(conn, false);
        return pending.fail(err);
      }
      conn.send(pending, bytes);
      // Back to the pool right after the write: the answer comes through the connection's reader.
      pool.release(conn, false);
      if (pending.call.oneway) pending.succeed({ status: 200, contentType: '', data: Buffer.alloc(0), headers: {} });
    });
    if (ticket !== undefined) {
      const prev = pending.call.req.cancel.onCancel;
      pending.call.req.cancel.onCancel = () => {
        pool.cancel(ticket);
        prev?.();
      };
    }
  }

  stats(): ChannelStats {
    const p = this.pool;
    return { size: p.size, busy: p.busy, idle: p.idle, waiting: p.waiting, dialed: p.dialed };
  }

  close(): void {
    this.pool.close();
    for (const p of this.#targets.values()) p.close();
  }
}

/** `application/json`, with or without parameters. */
export function isJson(contentType: string): boolean {
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() === 'application/json';
}
