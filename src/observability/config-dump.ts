/**
 * MOSN-style config dump: the validated config the workers run, as JSON, with secrets replaced by
 * "[redacted]" — every `api_token` (the Dapr API token), any key whose name ends in `token`,
 * `password` or `secret`, and everything under a TLS key (`tls`, `tls_context`, `tls_context_set`,
 * `cluster_manager_tls`, …: certificates and private keys would sit there).
 */
export const REDACTED = '[redacted]';

function isSecretKey(key: string): boolean {
  const k = key.toLowerCase();
  return k === 'api_token' || /(^|_)(token|password|secret)$/.test(k) || /(^|_)tls($|_)/.test(k);
}

export function redactConfig(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactConfig);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redactConfig(v);
  }
  return out;
}
