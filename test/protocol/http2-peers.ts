/**
 * Test helpers: Ringside's HTTP/2 engine on real sockets (port 0), and raw frame writing for bad input.
 */
import net from 'node:net';
import { once } from 'node:events';
import { Http2Connection, type Http2ConnectionOptions } from '../../src/protocol/http2/index.js';
import { FrameType, type Http2ConnectionHandler, type Http2Frame } from '../../src/types/http2.js';
import { FrameParser } from '../../src/protocol/http2/frame-parser.js';
import { HpackDecoder } from '../../src/protocol/http2/hpack.js';

export interface EngineServer {
  port: number;
  connections: Http2Connection[];
  closeReasons: { reason: string; code: number }[];
  close(): Promise<void>;
}

/** Serves each accepted socket with an Http2Connection in the server role; `app` builds its handler. */
export async function serveEngine(
  app: (conn: () => Http2Connection) => Partial<Http2ConnectionHandler>,
  settings?: Http2ConnectionOptions['settings'],
): Promise<EngineServer> {
  const connections: Http2Connection[] = [];
  const closeReasons: { reason: string; code: number }[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    let conn!: Http2Connection;
    const h = app(() => conn);
    conn = new Http2Connection({
      role: 'server',
      ...(settings !== undefined ? { settings } : {}),
      transport: { write: (b) => socket.write(b), close: () => socket.end() },
      handler: {
        onStreamHeaders: (id, f, e) => h.onStreamHeaders?.(id, f, e),
        onStreamData: (id, d, e) => h.onStreamData?.(id, d, e),
        onStreamReset: (id, c, p) => h.onStreamReset?.(id, c, p),
        onStreamWritable: (id) => h.onStreamWritable?.(id),
        onConnectionClosed: (reason, code) => {
          closeReasons.push({ reason, code });
          h.onConnectionClosed?.(reason, code);
        },
      },
    });
    connections.push(conn);
    socket.on('data', (d) => conn.execute(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      conn.transportClosed('socket closed');
    });
    conn.start();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    closeReasons,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** A raw client: writes bytes, collects the frames the server sends back (decoding header blocks). */
export class RawClient {
  readonly socket: net.Socket;
  readonly frames: Http2Frame[] = [];
  readonly headers: { streamId: number; fields: string[] }[] = [];
  closed = false;
  readonly #parser: FrameParser;
  readonly #hpack = new HpackDecoder(4096);
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.#parser = new FrameParser({ maxFrameSize: 1 << 24, maxHeaderBlockBytes: 1 << 24 }, (f) => {
      if (f.type === FrameType.Headers) this.headers.push({ streamId: f.streamId, fields: this.#hpack.decode(f.block, Infinity).fields! });
      this.frames.push(f.type === FrameType.Goaway ? { ...f, debug: Buffer.from(f.debug) } : f.type === FrameType.Data ? { ...f, data: Buffer.from(f.data) } : f);
      this.#wake();
    }, () => {});
    socket.on('data', (d) => this.#parser.execute(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  write(...parts: Buffer[]): void {
    this.socket.write(Buffer.concat(parts));
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Waits until `pred` holds over what was received (or the socket closed), up to `ms`. */
  async until(pred: () => boolean, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (this.closed) return;
      const left = end - Date.now();
      if (left <= 0) throw new Error('timed out waiting for frames');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  goaway(): Extract<Http2Frame, { type: FrameType.Goaway }> | undefined {
    return this.frames.find((f) => f.type === FrameType.Goaway) as Extract<Http2Frame, { type: FrameType.Goaway }> | undefined;
  }
}
