/**
 * Applying a route's header edits and reading its retry policy. Kept apart from matching because
 * the proxy calls these at other phases (request headers before the upstream request, response
 * headers in UpRecvHeader, retry decisions after a failed try).
 */
import type { RingsideError } from '../common/errors.js';
import type { HeaderMutation, MutableHeaders, RetryPolicy } from '../types/router.js';

/** Called once per request (or response) with the route's requestHeaders (or responseHeaders). */
export function applyHeaderMutation(mutation: HeaderMutation, headers: MutableHeaders): void {
  for (let s = 0; s < mutation.length; s++) {
    const step = mutation[s]!;
    for (let i = 0; i < step.remove.length; i++) headers.delete(step.remove[i]!);
    for (let i = 0; i < step.add.length; i++) {
      const h = step.add[i]!;
      if (h.append) headers.append(h.key, h.value);
      else headers.set(h.key, h.value);
    }
  }
}

/**
 * Called after a failed try: true when the policy covers what happened. `status` is the upstream's
 * answer when there was one; `error` is the failure when there was none. Counting tries and the
 * "is it safe to resend" check (body already streamed, non-idempotent) stay with the proxy.
 */
export function retryCovers(policy: RetryPolicy, error: RingsideError | undefined, status: number | undefined, grpcStatus?: number): boolean {
  if (grpcStatus !== undefined && policy.grpcCodes.has(grpcStatus)) return true;
  if (error !== undefined) {
    // Only the upstream's failures, and only those their maker marked worth another try: a bad
    // request or a Ringside bug would fail the same way again, and a route deadline is final.
    if (error.source !== 'upstream' || !error.retryable) return false;
    switch (error.code) {
      case 'CONNECT_FAILED':
        return policy.onConnectFailure;
      case 'UPSTREAM_RESET':
        return policy.onReset;
      case 'TIMEOUT':
        // A per-try timeout is answered as 504, which 5xx and gateway-error cover.
        return policy.onGatewayError;
      case 'UPSTREAM_STATUS':
        return status === undefined ? false : statusCovered(policy, status);
      default:
        return false;
    }
  }
  return status === undefined ? false : statusCovered(policy, status);
}

function statusCovered(policy: RetryPolicy, status: number): boolean {
  if (status < 500 || status > 599) return false;
  return policy.on5xx || (policy.onGatewayError && status >= 502 && status <= 504);
}
