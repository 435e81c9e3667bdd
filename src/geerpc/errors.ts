/**
 * geerpc errors carry a stable code next to Go's message text, so callers branch on `code` while
 * logs and error replies read as a Go peer's would.
 */
export type GeeRpcErrorCode =
  | 'SHUTDOWN' // the client was closed, or its connection is gone (Go's ErrShutdown)
  | 'CONNECTION_LOST' // the connection ended while the call was pending
  | 'CONNECT_TIMEOUT' // dial, HTTP CONNECT and Option exchange did not finish in time
  | 'CONNECT_FAILED' // the peer refused the connection or the HTTP CONNECT answer was wrong
  | 'DEADLINE_EXCEEDED' // the call's own deadline passed
  | 'CANCELLED' // the call's AbortSignal fired
  | 'SERVER' // the server answered with Header.Error set
  | 'CODEC' // a value could not be encoded, or the peer's bytes could not be decoded
  | 'NO_SERVERS' // discovery knows no server
  | 'BAD_ADDRESS'; // not protocol@addr

export class GeeRpcError extends Error {
  readonly code: GeeRpcErrorCode;
  constructor(code: GeeRpcErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'GeeRpcError';
    this.code = code;
  }
}

/** Go's `ErrShutdown = errors.New("connection is shut down")`. */
export const SHUTDOWN_MESSAGE = 'connection is shut down';
export function errShutdown(): GeeRpcError {
  return new GeeRpcError('SHUTDOWN', SHUTDOWN_MESSAGE);
}
