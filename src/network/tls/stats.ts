/**
 * TLS handshake outcomes on this worker, by side (downstream: a listener's accepted connections;
 * upstream: a cluster's dials) and name, with failures by reason; the worker's /metrics collector
 * reads them (src/observability/worker-metrics.ts). A refused peer is logged once per address per
 * LOG_INTERVAL_MS, so a client retrying with a bad certificate cannot flood the log.
 */
import { logger } from '../../common/log.js';

const log = logger('tls');
const LOG_INTERVAL_MS = 60_000;
/** Peers remembered for the log rate limit; the oldest is forgotten beyond this. */
const MAX_REMEMBERED_PEERS = 4096;

export type TlsSideLabel = 'downstream' | 'upstream';

export interface TlsHandshakeSample {
  side: TlsSideLabel;
  name: string;
  /** 'ok', or the failure reason (an OpenSSL / Node error code, or a verification result). */
  result: string;
  count: number;
}

const counts = new Map<string, TlsHandshakeSample>();

export function countHandshake(side: TlsSideLabel, name: string, result: string): void {
  const key = `${side}\0${name}\0${result}`;
  const s = counts.get(key);
  if (s !== undefined) s.count++;
  else counts.set(key, { side, name, result, count: 1 });
}

export function handshakeSamples(): TlsHandshakeSample[] {
  return [...counts.values()];
}

const lastLogged = new Map<string, number>();

/** Logs a refused handshake unless this peer address was logged within LOG_INTERVAL_MS. */
export function logRefused(where: string, peerAddress: string, reason: string, detail: string): void {
  const now = Date.now();
  const last = lastLogged.get(peerAddress);
  if (last !== undefined && now - last < LOG_INTERVAL_MS) return;
  lastLogged.delete(peerAddress);
  lastLogged.set(peerAddress, now);
  if (lastLogged.size > MAX_REMEMBERED_PEERS) lastLogged.delete(lastLogged.keys().next().value as string);
  log.warn(`${where}: TLS handshake with ${peerAddress} refused (${reason}): ${detail} (further refusals of this peer within ${LOG_INTERVAL_MS / 1000} s are only counted)`);
}

/** A reason label from a handshake error: Node's / OpenSSL's code, else a short fallback. */
export function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; reason?: unknown } | null;
  if (e !== null && typeof e === 'object' && typeof e.code === 'string' && e.code !== '') return e.code;
  return 'handshake_error';
}
