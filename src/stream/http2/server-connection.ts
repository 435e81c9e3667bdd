/**
 * The HTTP/2 ServerStreamConnection (h2c with prior knowledge): one per downstream connection, fed
 * by the `proxy` read filter. Ringside's HTTP/2 engine (src/protocol/http2) speaks the protocol;
 * this class maps its streams to Ringside streams by id, each handed to a StreamHandler (the proxy's
 * phase machine) once its head passed the receiver filters. Many streams run at once; a drain sends
 * GOAWAY and the connection closes when the streams it took are answered.
 */
import type { RingsideError } from '../../common/errors.js';
import { Http2Connection } from '../../protocol/http2/connection.js';
import { HTTP2, requestFromFields } from '../../protocol/http2/heads.js';
import { CloseMode, ConnectionEvent, type Connection } from '../../types/network.js';
import { Http2ErrorCode, type Http2ConnectionHandler, type Http2Settings } from '../../types/http2.js';
import {
  StreamResetReason,
  type PendingBudget,
  type ServerStreamConnection,
  type ServerStreamConnectionOptions,
  type StreamFilterChainFactory,
  type StreamHandlerFactory,
} from '../../types/stream.js';
import { Http2ServerStream, type Http2StreamOwner } from './server-stream.js';

/** The engine settings of a listener: ringside.http2, with the header limit from ringside.limits when unset. */
export function serverSettings(options: ServerStreamConnectionOptions): Partial<Http2Settings> {
  const headerBytes = options.limits?.maxHeaderBytes;
  return { ...(headerBytes !== undefined ? { maxHeaderListSize: headerBytes } : {}), ...options.http2 };
}

class Http2ServerConnection implements ServerStreamConnection, Http2StreamOwner, Http2ConnectionHandler {
  readonly protocol = HTTP2;
  readonly connection: Connection;
  readonly engine: Http2Connection;
  readonly handlerFactory: StreamHandlerFactory;
  readonly filters: readonly StreamFilterChainFactory[];
  readonly #streams = new Map<number, Http2ServerStream>();
  readonly #budget: PendingBudget | undefined;
  readonly #drain: ServerStreamConnectionOptions['drain'];
  #closed = false;

  constructor(connection: Connection, options: ServerStreamConnectionOptions) {
    this.connection = connection;
    this.handlerFactory = options.handlerFactory;
    this.filters = options.filters ?? [];
    this.#budget = options.pendingBudget;
    this.#drain = options.drain;
    this.engine = new Http2Connection({
      role: 'server',
      settings: serverSettings(options),
      handler: this,
      transport: {
        write: (data) => connection.write(data),
        close: (reason) => connection.close(CloseMode.FlushWrite, reason),
      },
    });
    connection.addEventListener((event, reason) => {
      if (event === ConnectionEvent.RemoteClose || event === ConnectionEvent.LocalClose) this.engine.transportClosed(reason ?? 'connection closed');
    });
    this.#drain?.add(this);
    this.engine.start();
  }

  get activeStreams(): number {
    return this.#streams.size;
  }

  onData(data: Buffer, endOfStream: boolean): void {
    if (this.#closed) return;
    if (data.length > 0) this.engine.execute(data);
    // An HTTP/2 client that half-closes sends nothing more: answer what it asked, then close.
    if (endOfStream) this.engine.shutdown('peer closed its side');
  }

  goAway(): void {
    this.engine.shutdown('draining');
  }

  abort(error: RingsideError): void {
    this.engine.close(Http2ErrorCode.InternalError, `internal error: ${error.message}`);
  }

  // ── Http2ConnectionHandler ──

  onStreamHeaders(id: number, fields: string[], endStream: boolean): void {
    const existing = this.#streams.get(id);
    if (existing !== undefined) {
      existing.trailers(fields);
      return;
    }
    const stream = new Http2ServerStream(this, requestFromFields(id, fields));
    this.#streams.set(id, stream);
    const budget = this.#budget;
    if (budget !== undefined && budget.held >= budget.max) {
      budget.refused++;
      stream.sendLocalReply(503, undefined, `Service Unavailable: listener ${budget.listenerName} holds its max_pending_requests (${budget.max}) requests\n`);
      return;
    }
    if (budget !== undefined) {
      budget.held++;
      stream.holdsSlot = true;
    }
    stream.start(endStream);
  }

  onStreamData(id: number, data: Buffer, endStream: boolean): void {
    this.#streams.get(id)?.data(data, endStream);
  }

  onStreamReset(id: number, _code: number, byPeer: boolean): void {
    this.#streams.get(id)?.resetByPeer(byPeer && !this.engine.closed ? StreamResetReason.RemoteReset : StreamResetReason.ConnectionClosed);
  }

  onStreamWritable(id: number): void {
    this.#streams.get(id)?.writable();
  }

  onConnectionClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#drain?.delete(this);
    for (const s of [...this.#streams.values()]) s.resetByPeer(StreamResetReason.ConnectionClosed);
  }

  // ── Http2StreamOwner ──

  streamDone(stream: Http2ServerStream): void {
    if (this.#streams.get(stream.id) !== stream) return;
    this.#streams.delete(stream.id);
    if (stream.holdsSlot) {
      stream.holdsSlot = false;
      this.#budget!.held--;
    }
  }
}

/** Builds the HTTP/2 stream side of a downstream connection; the `proxy` filter feeds it bytes. */
export function createHttp2ServerStreamConnection(connection: Connection, options: ServerStreamConnectionOptions): ServerStreamConnection {
  return new Http2ServerConnection(connection, options);
}
