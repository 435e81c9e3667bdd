/**
 * gRPC's own defaults for a channel's connection management (grpc/doc/connection-backoff.md):
 * 1 s first delay, ×1.6 per failure, ±20 % jitter, at most 120 s, and 20 s for one connect attempt.
 */
import type { ConnectBackoff } from '../../types/grpc.js';

export const DEFAULT_CONNECT_BACKOFF: ConnectBackoff = {
  initialMs: 1000,
  multiplier: 1.6,
  jitter: 0.2,
  maxMs: 120_000,
  minConnectTimeoutMs: 20_000,
};
