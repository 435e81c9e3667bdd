/**
 * Dubbo frames as the X-protocol stream layer and the proxy see them (XRequest / XResponse). A
 * decoded frame keeps its own copy of the bytes it came in (`raw`); `content` is the body, a view of
 * that copy. Forwarding an unchanged frame sends `raw` with the id (and a response's status) patched:
 * arguments and results are never re-encoded on the proxy path.
 *
 * A request's header map holds what routing reads — `dubbo`, `service`, `version`, `method` from the
 * body's head at once — and the attachments (`group`, `interface`, `timeout` …), decoded on the first
 * lookup of any other name because they sit behind the arguments. An edited map (a route's header
 * mutations) is written back as the attachments: the head strings and the argument bytes stay as they
 * came, the attachments map is encoded again.
 */
import { XCommand, type XRequest, type XResponse } from '../../types/xprotocol.js';
import { XHeaders } from '../xprotocol/headers.js';
import { Headers } from '../headers.js';
import type { HeaderMap } from '../../types/protocol.js';
import { DubboHeader, HEADER_BYTES } from './constants.js';
import { decodeRequestRest, type DubboRequestHead } from './head.js';

export const DUBBO = 'dubbo';

const EAGER = new Set<string>([DubboHeader.FRAMEWORK_VERSION, DubboHeader.SERVICE, DubboHeader.VERSION, DubboHeader.METHOD]);
/** Head fields that are not attachments: an edit to them does not reach the invocation's head strings. */
const HEAD_ONLY = new Set<string>([DubboHeader.FRAMEWORK_VERSION, DubboHeader.METHOD]);

/**
 * The request's header map: the four head fields at once, the attachments when first needed. When the
 * attachments cannot be decoded the map holds the head fields only (the frame itself is still
 * forwarded as received; the provider judges its own bytes).
 */
export class DubboRequestHeaders implements HeaderMap {
  readonly #base: Headers;
  #body: Buffer | null;
  readonly #head: DubboRequestHead | null;
  /** Set by any edit: the attachments are written again when the request is encoded. */
  dirty = false;
  /** Where the attachments map starts in the body; -1 until decoded, or when it cannot be. */
  attachmentsAt = -1;

  constructor(head: DubboRequestHead | null, body: Buffer | null, init: string[] = []) {
    this.#head = head;
    this.#body = head === null ? null : body;
    this.#base =
      head === null
        ? new Headers(init)
        : new Headers([DubboHeader.FRAMEWORK_VERSION, head.dubboVersion, DubboHeader.SERVICE, head.service, DubboHeader.VERSION, head.version, DubboHeader.METHOD, head.method, ...init]);
  }

  #all(): Headers {
    const body = this.#body;
    if (body !== null) {
      this.#body = null;
      try {
        const { attachments, attachmentsAt } = decodeRequestRest(body, this.#head!);
        this.attachmentsAt = attachmentsAt;
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
    this.dirty = true;
    this.#all().set(name, value);
  }
  add(name: string, value: string): void {
    this.dirty = true;
    this.#all().add(name, value);
  }
  remove(name: string): boolean {
    const removed = this.#all().remove(name);
    if (removed) this.dirty = true;
    return removed;
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

  /** The attachments to write back after an edit: every entry but the head-only fields. */
  attachments(): Record<string, string> {
    const out: Record<string, string> = {};
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!;
      // `service` is Ringside's routing name; Dubbo's attachments for it are `path` and `interface`.
      if (HEAD_ONLY.has(k) || k === DubboHeader.SERVICE) continue;
      out[k] = raw[i + 1]!;
    }
    return out;
  }
}

/** Where a decoded frame sits: Ringside's own copy of it, and the body view taken from it. */
export interface DubboRaw {
  readonly raw: Buffer;
  readonly content: Buffer;
}

export class DubboRequest implements XRequest {
  readonly kind = 'request';
  readonly protocol = DUBBO;
  method: string;
  path: string;
  /** Dubbo consumers put their timeout in the attachments, behind the arguments: the route's timeout applies. */
  readonly timeoutMs = 0;
  constructor(
    public requestId: number,
    readonly command: XCommand,
    /** The flag byte (request, two-way, event, serialization id). */
    readonly flag: number,
    readonly head: DubboRequestHead | null,
    readonly headers: DubboRequestHeaders,
    public content: Buffer,
    readonly layout: DubboRaw | null,
  ) {
    this.method = head?.method ?? '';
    this.path = headers.get(DubboHeader.SERVICE) ?? head?.service ?? '';
  }

  get oneway(): boolean {
    return this.command === XCommand.Oneway;
  }

}

export class DubboResponse implements XResponse {
  readonly kind = 'response';
  readonly protocol = DUBBO;
  reason = '';
  constructor(
    public requestId: number,
    readonly flag: number,
    /** The status byte (20 OK …). */
    public status: number,
    /** Not on the wire (a dubbo response has no header map outside its body): for filters and the sidecar's own marks. */
    readonly headers: XHeaders,
    public content: Buffer,
    readonly layout: DubboRaw | null,
  ) {}

  get heartbeat(): boolean {
    return (this.flag & 0x20) !== 0;
  }
}

/** The body of a raw frame. */
export function bodyOf(raw: Buffer): Buffer {
  return raw.subarray(HEADER_BYTES);
}
