/**
 * What one HTTP/1.x message head has said so far, filled in line by line by the start-line and field
 * parsers and read by the decoder when the head is complete. One instance per decoder, reset per
 * message, so parsing a head allocates nothing but the strings it keeps.
 */

/** Why bytes were refused: the message, the HTTP status it means, and whether a configured limit was passed. */
export interface Fault {
  readonly message: string;
  readonly status: number;
  readonly limit?: boolean;
}

export class HeadState {
  /** Bytes of the head so far (start line, fields, line ends), against maxHeaderBytes. */
  headBytes = 0;
  /** Field lines as [name, value, …], values without surrounding OWS. */
  raw: string[] = [];
  method = '';
  target = '';
  status = 0;
  reason = '';
  versionMinor: 0 | 1 = 1;
  /** -1 when absent. */
  contentLength = -1;
  /** Every Transfer-Encoding value, joined with commas; null when absent. */
  transferEncoding: string | null = null;
  connClose = false;
  connKeepAlive = false;
  expect100 = false;
  hostCount = 0;
  /**
   * The field section as one latin1 string when it arrived whole in one buffer (`text` is
   * textBuf[textStart, textStart + text.length)): names and values are then substrings of it instead
   * of one native slice per field line. Null otherwise; valid only while that buffer is being decoded.
   */
  text: string | null = null;
  textBuf: Buffer | null = null;
  textStart = 0;

  reset(): void {
    this.text = null;
    this.textBuf = null;
    this.headBytes = 0;
    this.raw = [];
    this.reason = '';
    this.contentLength = -1;
    this.transferEncoding = null;
    this.connClose = false;
    this.connKeepAlive = false;
    this.expect100 = false;
    this.hostCount = 0;
  }
}
