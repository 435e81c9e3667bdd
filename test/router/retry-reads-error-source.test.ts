/**
 * Retry and status mapping read what an error says about itself: its source and whether another
 * try may succeed, not only its code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GrpcCode, RingsideError, grpcCodeOf, httpStatusOf } from '../../src/common/errors.js';
import { retryCovers } from '../../src/router/mutations.js';
import { compileRetryPolicy } from '../../src/router/route.js';

const everything = compileRetryPolicy({ retry_on: '5xx,gateway-error,connect-failure,reset', num_retries: 3 }, 'p');

test('only retryable upstream errors are retried', () => {
  assert.equal(retryCovers(everything, new RingsideError('CONNECT_FAILED', 'upstream', 'refused'), undefined), true);
  assert.equal(retryCovers(everything, new RingsideError('UPSTREAM_RESET', 'upstream', 'reset'), undefined), true);
  assert.equal(retryCovers(everything, new RingsideError('TIMEOUT', 'upstream', 'per try', { retryable: true }), undefined), true);
  // The route deadline is final; a reset its maker marked unsafe to repeat is too.
  assert.equal(retryCovers(everything, new RingsideError('TIMEOUT', 'upstream', 'route deadline', { retryable: false }), undefined), false);
  assert.equal(retryCovers(everything, new RingsideError('UPSTREAM_RESET', 'upstream', 'mid-body', { retryable: false }), undefined), false);
  // A failure that is not the upstream's would fail the same way again.
  assert.equal(retryCovers(everything, new RingsideError('CONNECT_FAILED', 'internal', 'bug', { retryable: true }), undefined), false);
  assert.equal(retryCovers(everything, new RingsideError('UPSTREAM_RESET', 'downstream', 'client went away', { retryable: true }), undefined), false);
});

test('status mapping follows the source: the downstream gets 4xx for its own faults, 5xx for the upstream', () => {
  assert.equal(httpStatusOf(new RingsideError('BAD_REQUEST', 'downstream', 'x')), 400);
  assert.equal(httpStatusOf(new RingsideError('BAD_REQUEST', 'upstream', 'x')), 502);
  assert.equal(httpStatusOf(new RingsideError('LIMIT_EXCEEDED', 'downstream', 'x')), 413);
  assert.equal(httpStatusOf(new RingsideError('LIMIT_EXCEEDED', 'upstream', 'response too large')), 502);
  assert.equal(httpStatusOf(new RingsideError('TIMEOUT', 'downstream', 'request head too slow')), 408);
  assert.equal(httpStatusOf(new RingsideError('TIMEOUT', 'upstream', 'x')), 504);
  assert.equal(grpcCodeOf(new RingsideError('BAD_REQUEST', 'downstream', 'x')), GrpcCode.INVALID_ARGUMENT);
  assert.equal(grpcCodeOf(new RingsideError('BAD_REQUEST', 'upstream', 'x')), GrpcCode.INTERNAL);
  assert.equal(grpcCodeOf(new RingsideError('UPSTREAM_RESET', 'upstream', 'x')), GrpcCode.UNAVAILABLE);
  assert.equal(grpcCodeOf(new RingsideError('UPSTREAM_RESET', 'upstream', 'x', { retryable: false })), GrpcCode.INTERNAL);
});
