/**
 * Ready-made HTTP/1.x answers for Ringside's own replies (decode errors, no route, overload), where
 * there is no upstream head to forward. Short plain-text bodies: they are read by people in logs and
 * curl output, not by programs.
 */
import { httpStatusOf, type RingsideError } from '../../common/errors.js';
import { Headers } from '../headers.js';
import { H1Response, reasonPhrase } from './heads.js';

/** The HTTP status to answer an error with: the status the error carries (414, 431…) wins. */
export function statusOfError(err: RingsideError): number {
  return err.status ?? httpStatusOf(err);
}

/** A response head for a local reply, with a text body's Content-Type when there is a body. */
export function localReplyHead(status: number, requestId = 0, extra?: Headers): H1Response {
  const headers = extra ?? new Headers();
  return new H1Response(requestId, status, reasonPhrase(status), headers);
}

/**
 * A whole response as bytes: status line, Content-Type/Content-Length, optional Connection: close and
 * the body. Used when the stream machinery cannot be (a request that never decoded).
 */
export function encodeSimpleResponse(status: number, body: string, close: boolean): Buffer {
  const text =
    `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n` +
    (body.length > 0 ? 'Content-Type: text/plain; charset=utf-8\r\n' : '') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    (close ? 'Connection: close\r\n' : '') +
    '\r\n';
  return Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from(body, 'utf8')]);
}

/** The answer to a decode error: its status, a one-line reason, and always a closed connection. */
export function encodeErrorResponse(err: RingsideError): Buffer {
  const status = statusOfError(err);
  return encodeSimpleResponse(status, `${reasonPhrase(status)}: ${err.message}\n`, true);
}
