/**
 * Bolt frames as the stream layer and the proxy see them. A decoded frame keeps its own copy of the
 * bytes it came in (`raw`), and class name, header map and content are views or values taken from
 * that copy: forwarding an unchanged frame sends `raw` with the request id patched, no re-encoding.
 */
import { XCommand, type XRequest, type XResponse } from '../../types/xprotocol.js';
import { XHeaders } from '../xprotocol/headers.js';
import { HEADER_METHOD, HEADER_SERVICE, HEADER_TARGET_SERVICE } from './constants.js';

/** Where the fields of a received frame sit in `raw`, for the unchanged-frame fast path. */
export interface RawLayout {
  /** The frame as received, fixed part through content (and CRC): Ringside's own copy. */
  readonly raw: Buffer;
  /** The content view taken from raw; a frame whose content was replaced is re-encoded. */
  readonly content: Buffer;
}

export class BoltRequest implements XRequest {
  readonly kind = 'request';
  method: string;
  path: string;
  constructor(
    /** The codec that decoded or made it ('bolt' | 'boltv2'). */
    readonly protocol: string,
    /** 1 (v1) or 2 (v2) on the wire. */
    readonly proto: number,
    readonly ver1: number,
    readonly switchCode: number,
    public requestId: number,
    readonly command: XCommand,
    readonly cmdCode: number,
    readonly ver2: number,
    readonly codec: number,
    /** The timeout field as sent (int32; −1 on heartbeats). */
    readonly timeout: number,
    readonly className: string,
    readonly headers: XHeaders,
    public content: Buffer,
    readonly layout: RawLayout | null,
  ) {
    this.path = headers.get(HEADER_SERVICE) ?? headers.get(HEADER_TARGET_SERVICE) ?? '';
    this.method = headers.get(HEADER_METHOD) ?? '';
  }

  get timeoutMs(): number {
    return this.timeout > 0 ? this.timeout : 0;
  }

  get oneway(): boolean {
    return this.command === XCommand.Oneway;
  }
}

export class BoltResponse implements XResponse {
  readonly kind = 'response';
  reason = '';
  constructor(
    readonly protocol: string,
    readonly proto: number,
    readonly ver1: number,
    readonly switchCode: number,
    public requestId: number,
    readonly cmdCode: number,
    readonly ver2: number,
    readonly codec: number,
    public status: number,
    readonly className: string,
    readonly headers: XHeaders,
    public content: Buffer,
    readonly layout: RawLayout | null,
  ) {}

  get heartbeat(): boolean {
    return this.cmdCode === 0;
  }
}
