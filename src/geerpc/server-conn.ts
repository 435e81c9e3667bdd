/**
 * One accepted geerpc connection, in three phases:
 *   Option → the JSON Option is read; a wrong magic number or unknown codec is logged and the
 *            connection closed (as Go's ServeConn does);
 *   Serving → each (Header, body) is dispatched to its method, concurrently; replies are written
 *            whole, in completion order; the client's HandleTimeout bounds each call;
 *   Closed  → the peer left, or its bytes were malformed (logged; only this connection ends).
 * At most `maxInflight` calls run at once; past that the socket stops being read until one ends.
 */
import type { Duplex } from 'node:stream';
import { logger } from '../common/log.js';
import { createCodec, EmptyStruct, type Codec, type Frame, type Header } from './codec.js';
import { goDuration, nsToMs } from './duration.js';
import { GeeRpcError } from './errors.js';
import { MAGIC_NUMBER, readOption } from './option.js';
import type { MethodEntry, Service } from './service.js';

const log = logger('geerpc.server');

export const enum ConnPhase {
  Option,
  Serving,
  Closed,
}

export interface ServerConnLimits {
  maxMessageBytes: number;
  maxInflight: number;
}

export type ServiceLookup = (name: string) => Service | undefined;

export class ServerConn {
  #phase = ConnPhase.Option;
  #optionBuf: Buffer = Buffer.alloc(0);
  #codec: Codec | undefined;
  #handleTimeoutNs = 0;
  #inflight = 0;
  #paused = false;

  constructor(
    private readonly socket: Duplex,
    private readonly lookup: ServiceLookup,
    private readonly limits: ServerConnLimits,
    private readonly peer: string,
    initial?: Buffer,
  ) {
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => log.debug('connection error', peer, err.message));
    socket.on('close', () => {
      this.#phase = ConnPhase.Closed;
    });
    if (initial !== undefined && initial.length > 0) this.#onData(initial);
  }

  get phase(): ConnPhase {
    return this.#phase;
  }

  #onData(chunk: Buffer): void {
    if (this.#phase === ConnPhase.Closed) return;
    if (this.#phase === ConnPhase.Option) {
      const buf = this.#optionBuf.length === 0 ? chunk : Buffer.concat([this.#optionBuf, chunk]);
      const r = readOption(buf);
      if (r.kind === 'incomplete') {
        this.#optionBuf = buf;
        return;
      }
      this.#optionBuf = Buffer.alloc(0);
      if (r.kind === 'error') return this.#fail(`rpc server: ${r.message}`);
      if (r.option.MagicNumber !== MAGIC_NUMBER) return this.#fail(`rpc server: invalid magic number ${r.option.MagicNumber.toString(16)}`);
      const codec = createCodec(r.option.CodecType, { maxMessageBytes: this.limits.maxMessageBytes });
      if (codec === undefined) return this.#fail(`rpc server: invalid codec type ${r.option.CodecType}`);
      this.#codec = codec;
      this.#handleTimeoutNs = Math.max(0, r.option.HandleTimeout);
      this.#phase = ConnPhase.Serving;
      if (r.rest.length === 0) return;
      chunk = r.rest;
    }
    let frames: Frame[];
    try {
      frames = this.#codec!.decode(chunk);
    } catch (err) {
      return this.#fail(`rpc server: read header error: ${(err as Error).message}`);
    }
    for (const f of frames) this.#dispatch(f);
  }

  #fail(message: string): void {
    log.warn(message, this.peer);
    this.#phase = ConnPhase.Closed;
    this.socket.destroy();
  }

  #dispatch({ header, body }: Frame): void {
    const found = this.#find(header.ServiceMethod);
    if (typeof found === 'string') return this.#reply(header, found, undefined, undefined);
    found.numCalls++;
    this.#inflight++;
    if (this.#inflight >= this.limits.maxInflight && !this.#paused) {
      this.#paused = true;
      this.socket.pause();
    }
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: string, reply: unknown): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      this.#inflight--;
      if (this.#paused && this.#inflight < this.limits.maxInflight) {
        this.#paused = false;
        this.socket.resume();
      }
      this.#reply(header, error, reply, found);
    };
    if (this.#handleTimeoutNs > 0) {
      const ns = this.#handleTimeoutNs;
      timer = setTimeout(() => finish(`rpc server: request handle timeout: expect within ${goDuration(ns)}`, undefined), nsToMs(ns));
    }
    let result: unknown;
    try {
      result = found.fn(body);
    } catch (err) {
      return finish(errorText(err), undefined);
    }
    if (result instanceof Promise) result.then((v) => finish('', v), (err: unknown) => finish(errorText(err), undefined));
    else finish('', result);
  }

  #find(serviceMethod: string): MethodEntry | string {
    const dot = serviceMethod.lastIndexOf('.');
    if (dot < 0) return `rpc server: service/method request ill-formed: ${serviceMethod}`;
    const svc = this.lookup(serviceMethod.slice(0, dot));
    if (svc === undefined) return `rpc server: can't find service ${serviceMethod.slice(0, dot)}`;
    const m = svc.methods.get(serviceMethod.slice(dot + 1));
    return m ?? `rpc server: can't find method ${serviceMethod.slice(dot + 1)}`;
  }

  #reply(req: Header, error: string, reply: unknown, method: MethodEntry | undefined): void {
    if (this.#phase === ConnPhase.Closed) return;
    const codec = this.#codec!;
    const header: Header = { ServiceMethod: req.ServiceMethod, Seq: req.Seq, Error: error };
    let bytes: Buffer;
    if (error !== '') bytes = codec.encode(header, {}, EmptyStruct);
    else {
      try {
        // A method that returns nothing answers an empty struct, like an error reply's body.
        bytes = reply === undefined || reply === null ? codec.encode(header, {}, EmptyStruct) : codec.encode(header, reply, method?.types.reply);
      } catch (err) {
        const text = err instanceof GeeRpcError ? err.message : errorText(err);
        log.warn(`rpc server: cannot encode the reply of ${req.ServiceMethod}`, text);
        bytes = codec.encode({ ...header, Error: `rpc server: cannot encode reply: ${text}` }, {}, EmptyStruct);
      }
    }
    this.socket.write(bytes);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
