/**
 * DomainSocketServer: a dRPC server on a Unix SEQPACKET socket, as DAOS's control plane has it.
 * Modules are registered by id with their methods by id; each accepted connection is one session
 * whose calls are handled one at a time, in order (the protocol is synchronous: a session reads its
 * next call only after answering the last).
 *
 * Bad input fails that session only: a packet that breaks the chunk rules, a message past
 * `maxMessageBytes` or an oversized packet closes the session (no answer, as DAOS does); a message
 * that is not a Call is answered with sequence −1 and FAILED_UNMARSHAL_CALL and the session goes on.
 */
import { unlinkSync } from 'node:fs';
import type protobuf from 'protobufjs';
import { logger } from '../common/log.js';
import { ChunkAssembler, FramingError, toPackets } from './framing.js';
import { errnoName, loadLibc, POLLIN } from './libc.js';
import { Status, checkIds, decodeCall, encodeResponse, type Call } from './messages.js';
import { PacketSocket } from './packet-socket.js';
import { threadReactor, type Reactor } from './reactor.js';
import { acceptSeqpacket, listenSeqpacket } from './sockets.js';

const log = logger('drpc');

import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SOCKET_MODE } from './status.js';

export { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SOCKET_MODE };

/** Set when the session's peer goes away while its call runs (same shape as the invoker's RpcCancel). */
export interface CallCancel {
  cancelled: boolean;
  onCancel: (() => void) | null;
}

export interface CallContext {
  readonly module: number;
  readonly method: number;
  readonly sequence: number;
  readonly session: SessionInfo;
  readonly cancel: CallCancel;
}

export interface SessionInfo {
  readonly id: number;
  /** The server's socket path. */
  readonly path: string;
}

/** A method's answer: the response body (SUCCESS), synchronously or not. */
export type MethodHandler = (body: Buffer, ctx: CallContext) => Uint8Array | Promise<Uint8Array>;

/**
 * Thrown by a handler to answer with a status other than SUCCESS. DAOS sends no body with a failure;
 * a body given here is sent (Ringside's runtime module puts a google.rpc.Status there).
 */
export class DrpcFailure extends Error {
  readonly status: Status;
  readonly body: Uint8Array | undefined;
  constructor(status: Status, message?: string, body?: Uint8Array) {
    super(message ?? Status[status]);
    this.status = status;
    this.body = body;
  }
}

/** A dRPC module: an id and its methods (ids id×100+1 … id×100+99). */
export class Module {
  readonly id: number;
  readonly #methods = new Map<number, MethodHandler>();

  constructor(id: number) {
    const bad = checkIds(id);
    if (bad !== undefined) throw new Error(bad);
    this.id = id;
  }

  method(id: number, handler: MethodHandler): this {
    const bad = checkIds(this.id, id);
    if (bad !== undefined) throw new Error(bad);
    if (this.#methods.has(id)) throw new Error(`module ${this.id}: method ${id} is already registered`);
    this.#methods.set(id, handler);
    return this;
  }

  /**
   * A method with protobuf bodies: the body is decoded with `request` (FAILED_UNMARSHAL_PAYLOAD when it
   * is not one) and the handler's object encoded with `response` (FAILED_MARSHAL when it cannot be).
   */
  typedMethod<Req extends object, Res extends object>(
    id: number,
    request: protobuf.Type,
    response: protobuf.Type,
    handler: (req: Req, ctx: CallContext) => Res | Promise<Res>,
  ): this {
    const encode = (res: Res): Uint8Array => {
      const bad = response.verify(res);
      if (bad !== null) throw new DrpcFailure(Status.FAILED_MARSHAL, `cannot encode ${response.name}: ${bad}`);
      return response.encode(res).finish();
    };
    return this.method(id, (body, ctx) => {
      let req: Req;
      try {
        req = request.decode(body) as unknown as Req;
      } catch (err) {
        throw new DrpcFailure(Status.FAILED_UNMARSHAL_PAYLOAD, `body is not a ${request.name}: ${(err as Error).message}`);
      }
      const out = handler(req, ctx);
      return out instanceof Promise ? out.then(encode) : encode(out);
    });
  }

  handler(methodId: number): MethodHandler | undefined {
    return this.#methods.get(methodId);
  }

  methodIds(): number[] {
    return [...this.#methods.keys()];
  }
}

export interface DomainSocketServerOptions {
  /** File mode of the socket file (default 0600: only the owner may connect). */
  socketMode?: number;
  /** Largest call message a session accepts (default 4 MiB); a larger one fails the session. */
  maxMessageBytes?: number;
  /** Most sessions at once (0: no limit); connections beyond it are closed at once. */
  maxSessions?: number;
  backlog?: number;
  /** Called for each accepted connection: a reason refuses (closes) it. */
  admit?: () => string | null;
  reactor?: Reactor;
}

export interface DomainSocketServerStats {
  activeSessions: number;
  totalSessions: number;
  rejectedSessions: number;
  /** Sessions failed by bad input (framing, size). */
  failedSessions: number;
  calls: number;
}

class Session {
  readonly info: SessionInfo;
  readonly #server: DomainSocketServer;
  readonly #socket: PacketSocket;
  readonly #assembler: ChunkAssembler;
  #cancel: CallCancel | null = null;

  constructor(server: DomainSocketServer, fd: number, id: number, path: string, maxMessageBytes: number, reactor: Reactor) {
    this.info = { id, path };
    this.#server = server;
    this.#assembler = new ChunkAssembler(maxMessageBytes);
    this.#socket = new PacketSocket(fd, reactor, {
      onPacket: (packet) => this.#onPacket(packet),
      onClose: (reason, error) => this.#onClose(reason, error),
    });
  }

  close(reason: string): void {
    this.#socket.close(reason);
  }

  #onPacket(packet: Buffer): void {
    let r;
    try {
      r = this.#assembler.push(packet);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.#server.noteFailedSession();
      this.#socket.close('bad input', err);
      return;
    }
    if (!r.done) return;
    this.#socket.pauseReading();
    const cancel: CallCancel = { cancelled: false, onCancel: null };
    this.#cancel = cancel;
    this.#server.dispatch(r.message, this.info, cancel, (response) => {
      this.#cancel = null;
      if (this.#socket.closed) return;
      this.#socket.send(toPackets(response));
      this.#socket.resumeReading();
    });
  }

  #onClose(reason: string, error: Error | undefined): void {
    const cancel = this.#cancel;
    if (cancel !== null && !cancel.cancelled) {
      cancel.cancelled = true;
      cancel.onCancel?.();
    }
    if (error !== undefined) log.debug(`drpc session ${this.info.id} on ${this.info.path} closed: ${reason}: ${error.message}`);
    this.#server.sessionClosed(this);
  }
}

export class DomainSocketServer {
  readonly path: string;
  readonly #modules = new Map<number, Module>();
  readonly #opts: Required<Omit<DomainSocketServerOptions, 'admit' | 'reactor'>> & Pick<DomainSocketServerOptions, 'admit'>;
  readonly #reactor: Reactor;
  readonly #sessions = new Set<Session>();
  #listenFd = -1;
  #nextSessionId = 1;
  #stats = { totalSessions: 0, rejectedSessions: 0, failedSessions: 0, calls: 0 };

  constructor(path: string, opts: DomainSocketServerOptions = {}) {
    if (path === '') throw new Error('a dRPC server needs a socket path');
    this.path = path;
    this.#reactor = opts.reactor ?? threadReactor();
    this.#opts = {
      socketMode: opts.socketMode ?? DEFAULT_SOCKET_MODE,
      maxMessageBytes: opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      maxSessions: opts.maxSessions ?? 0,
      backlog: opts.backlog ?? 128,
      admit: opts.admit,
    };
    if (!Number.isInteger(this.#opts.socketMode) || this.#opts.socketMode <= 0 || this.#opts.socketMode > 0o777) {
      throw new Error(`socket mode ${this.#opts.socketMode} must be a file mode in 1…0777`);
    }
  }

  get listening(): boolean {
    return this.#listenFd >= 0;
  }

  registerModule(module: Module): this {
    if (this.#modules.has(module.id)) throw new Error(`module with ID ${module.id} already exists`);
    this.#modules.set(module.id, module);
    return this;
  }

  /** Applies the stale-socket rule, binds, sets the mode and listens. Throws SocketFileInUseError. */
  start(): void {
    if (this.#listenFd >= 0) return;
    const fd = listenSeqpacket(this.path, this.#opts.socketMode, this.#opts.backlog);
    this.#listenFd = fd;
    this.#reactor.add(fd, POLLIN, { onReady: () => this.#acceptAll() });
  }

  /** Stops listening, removes the socket file, closes every session; resolves when the poll thread let go. */
  async shutdown(): Promise<void> {
    this.stopAccepting();
    for (const s of [...this.#sessions]) s.close('server shutdown');
    await this.#reactor.whenIdle();
  }

  /** Stops accepting new sessions (and removes the socket file); open sessions go on. */
  stopAccepting(): void {
    const fd = this.#listenFd;
    if (fd < 0) return;
    this.#listenFd = -1;
    this.#reactor.remove(fd);
    loadLibc().close(fd);
    try {
      unlinkSync(this.path);
    } catch {
      // already gone (removed by an operator, or a test)
    }
  }

  closeSessions(reason: string): void {
    for (const s of [...this.#sessions]) s.close(reason);
  }

  stats(): DomainSocketServerStats {
    return { activeSessions: this.#sessions.size, ...this.#stats };
  }

  #acceptAll(): void {
    while (this.#listenFd >= 0) {
      const r = acceptSeqpacket(this.#listenFd);
      if (r === null) return;
      if ('errno' in r) {
        // EMFILE and friends: log and wait for the next readiness report.
        log.error(`drpc server ${this.path}: accept failed: ${errnoName(r.errno)}`);
        return;
      }
      const refused =
        this.#opts.maxSessions > 0 && this.#sessions.size >= this.#opts.maxSessions ? `max sessions (${this.#opts.maxSessions}) reached` : (this.#opts.admit?.() ?? null);
      if (refused !== null) {
        this.#stats.rejectedSessions++;
        log.debug(`drpc server ${this.path}: refused a session: ${refused}`);
        loadLibc().close(r.fd);
        continue;
      }
      this.#stats.totalSessions++;
      this.#sessions.add(new Session(this, r.fd, this.#nextSessionId++, this.path, this.#opts.maxMessageBytes, this.#reactor));
    }
  }

  /** @internal */
  sessionClosed(s: Session): void {
    this.#sessions.delete(s);
  }

  /** @internal */
  noteFailedSession(): void {
    this.#stats.failedSessions++;
  }

  /** @internal Runs one call and hands its encoded Response to `reply` (always exactly once). */
  dispatch(message: Buffer, session: SessionInfo, cancel: CallCancel, reply: (response: Uint8Array) => void): void {
    this.#stats.calls++;
    let call: Call;
    try {
      call = decodeCall(message);
    } catch {
      reply(encodeResponse({ sequence: -1, status: Status.FAILED_UNMARSHAL_CALL, body: EMPTY }));
      return;
    }
    const seq = call.sequence;
    const module = this.#modules.get(call.module);
    if (module === undefined) return reply(encodeResponse({ sequence: seq, status: Status.UNKNOWN_MODULE, body: EMPTY }));
    const handler = module.handler(call.method);
    if (handler === undefined) return reply(encodeResponse({ sequence: seq, status: Status.UNKNOWN_METHOD, body: EMPTY }));
    const ok = (body: Uint8Array): void => {
      if (!(body instanceof Uint8Array)) {
        log.error(`drpc ${this.path}: module ${call.module} method ${call.method} returned a body that is not bytes`);
        return reply(encodeResponse({ sequence: seq, status: Status.FAILED_MARSHAL, body: EMPTY }));
      }
      reply(encodeResponse({ sequence: seq, status: Status.SUCCESS, body: body as Buffer }));
    };
    const fail = (err: unknown): void => {
      if (err instanceof DrpcFailure) {
        reply(encodeResponse({ sequence: seq, status: err.status, body: (err.body ?? EMPTY) as Buffer }));
        return;
      }
      log.error(`drpc ${this.path}: module ${call.module} method ${call.method} failed`, err);
      reply(encodeResponse({ sequence: seq, status: Status.FAILURE, body: EMPTY }));
    };
    let out: Uint8Array | Promise<Uint8Array>;
    try {
      out = handler(call.body, { module: call.module, method: call.method, sequence: seq, session, cancel });
    } catch (err) {
      fail(err);
      return;
    }
    if (out instanceof Promise) out.then(ok, fail);
    else ok(out);
  }
}

const EMPTY = Buffer.alloc(0);
