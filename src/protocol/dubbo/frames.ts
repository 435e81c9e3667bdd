/**
 * Dubbo request and response heads as the stream and proxy layers see them (RequestFrame /
 * ResponseFrame). A request keeps the frame's bytes as received so the proxy forwards them with only
 * the id rewritten; its headers hold what routing reads — `dubbo`, `service`, `version`, `method` from
 * the body's head — and the attachments (`group`, `interface`, `timeout` …), decoded on first lookup of
 * any other name because they sit behind the arguments.
 */
import { Headers } from '../headers.js';
import type { HeaderMap, RequestFrame, ResponseFrame } from '../../types/protocol.js';
import { DubboHeader, HEADER_BYTES } from './constants.js';
import { decodeRequestRest, type DubboRequestHead } from './head.js';
import { isEvent, isTwoWay } from './framing.js';

export const DUBBO = 'dubbo';

/** The frame's u64 id as a JS number where it fits (RequestFrame.requestId), else -1. */
export function numericId(id: bigint): number {
  return id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : -1;
}

const EAGER = new Set<string>([DubboHeader.FRAMEWORK_VERSION, DubboHeader.SERVICE, DubboHeader.VERSION, DubboHeader.METHOD]);

/**
 * The request's header map: the four head fields at once, the attachments when first needed. A
 * decode failure of the attachments leaves them out (the frame itself is still forwarded unchanged;
 * the upstream judges its own bytes).
 */
class DubboRequestHeaders implements HeaderMap {
  readonly #base: Headers;
  #body: Buffer | null;
  readonly #head: DubboRequestHead;

  constructor(head: DubboRequestHead, body: Buffer) {
    this.#head = head;
    this.#body = body;
    this.#base = new Headers([
      DubboHeader.FRAMEWORK_VERSION,
      head.dubboVersion,
      DubboHeader.SERVICE,
      head.service,
      DubboHeader.VERSION,
      head.version,
      DubboHeader.METHOD,
      head.method,
    ]);
  }

  #all(): Headers {
    const body = this.#body;
    if (body !== null) {
      this.#body = null;
      try {
        const { attachments } = decodeRequestRest(body, this.#head);
        for (const k in attachments) {
          if (EAGER.has(k)) continue;
          this.#base.add(k, attachments[k]!);
          // MOSN routes on the interface name when the attachments carry one.
          if (k === DubboHeader.INTERFACE) this.#base.set(DubboHeader.SERVICE, attachments[k]!);
        }
      } catch {
        /* attachments undecodable: routing sees the head fields only */
      }
    }
    return this.#base;
  }

  get(name: string): string | undefined {
    return EAGER.has(name) ? this.#base.get(name) : this.#all().get(name);
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  set(name: string, value: string): void {
    this.#all().set(name, value);
  }
  add(name: string, value: string): void {
    this.#all().add(name, value);
  }
  remove(name: string): boolean {
    return this.#all().remove(name);
  }
  forEach(fn: (name: string, value: string) => void): void {
    this.#all().forEach(fn);
  }
  get size(): number {
    return this.#all().size;
  }
  get raw(): string[] {
    return this.#all().raw;
  }
}

export class DubboRequest implements RequestFrame {
  readonly protocol = DUBBO;
  readonly requestId: number;
  /** The id on the wire. */
  readonly streamId: bigint;
  readonly flag: number;
  /** The whole frame as received (a copy the request owns). */
  readonly bytes: Buffer;
  readonly head: DubboRequestHead | null;
  method: string;
  path: string;
  readonly headers: HeaderMap;

  constructor(streamId: bigint, flag: number, bytes: Buffer, head: DubboRequestHead | null) {
    this.streamId = streamId;
    this.requestId = numericId(streamId);
    this.flag = flag;
    this.bytes = bytes;
    this.head = head;
    this.method = head?.method ?? '';
    this.path = head?.service ?? '';
    this.headers = head === null ? new Headers() : new DubboRequestHeaders(head, bytes.subarray(HEADER_BYTES));
  }

  get twoWay(): boolean {
    return isTwoWay(this.flag);
  }
  get heartbeat(): boolean {
    return isEvent(this.flag);
  }
  get body(): Buffer {
    return this.bytes.subarray(HEADER_BYTES);
  }
}

export class DubboResponse implements ResponseFrame {
  readonly protocol = DUBBO;
  readonly requestId: number;
  readonly streamId: bigint;
  flag: number;
  /** The dubbo status byte (20 OK …). */
  status: number;
  reason = '';
  readonly headers: HeaderMap;
  /** The whole frame as received, or null for a response Ringside builds. */
  readonly bytes: Buffer | null;

  constructor(streamId: bigint, flag: number, status: number, bytes: Buffer | null, headers: HeaderMap = new Headers()) {
    this.streamId = streamId;
    this.requestId = numericId(streamId);
    this.flag = flag;
    this.status = status;
    this.bytes = bytes;
    this.headers = headers;
  }

  get heartbeat(): boolean {
    return isEvent(this.flag);
  }
  get body(): Buffer {
    return this.bytes === null ? Buffer.alloc(0) : this.bytes.subarray(HEADER_BYTES);
  }
}
