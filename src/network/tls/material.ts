/**
 * Certificates, keys and CAs as node:tls wants them, read from a validated tls_context, and watched
 * for rotation: when a file named in the context changes on disk, the material is read again and
 * every holder is told, so new handshakes use the new certificate while connections already open keep
 * theirs (a SecureContext is only consulted by the handshake that uses it).
 *
 * Files are polled with fs.watchFile (a stat per interval) rather than inotify: certificate managers
 * replace files by rename, which an inotify watch on the old inode would not see.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { logger } from '../../common/log.js';
import type { PemSource, TlsContextConfig } from './schema.js';

const log = logger('tls');

function read(source: PemSource): string {
  return source.kind === 'inline' ? source.pem : readFileSync(source.path, 'utf8');
}

/** node:tls options for one context: PEM read now, versions, ciphers, curves. Throws when a file is unreadable. */
export function secureOptions(c: TlsContextConfig): SecureContextOptions {
  return {
    ...(c.ca_cert !== undefined ? { ca: read(c.ca_cert) } : {}),
    ...(c.cert_chain !== undefined ? { cert: read(c.cert_chain) } : {}),
    ...(c.private_key !== undefined ? { key: read(c.private_key) } : {}),
    ...(c.min_version !== undefined ? { minVersion: c.min_version } : {}),
    ...(c.max_version !== undefined ? { maxVersion: c.max_version } : {}),
    ...(c.ciphers !== undefined ? { ciphers: c.ciphers } : {}),
    ...(c.curves !== undefined ? { ecdhCurve: c.curves } : {}),
  };
}

/** A server certificate ready for handshakes: its SecureContext and the names it is valid for. */
export interface ServedCertificate {
  readonly context: SecureContext;
  /** Whether the certificate covers an SNI name (SAN DNS entries, wildcards, or the CN without SANs). */
  covers(serverName: string): boolean;
}

export function serveCertificate(c: TlsContextConfig): ServedCertificate {
  const opts = secureOptions(c);
  const context = createSecureContext(opts);
  const pem = typeof opts.cert === 'string' ? opts.cert : '';
  const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const x509 = leaf === undefined ? undefined : new X509Certificate(leaf);
  return { context, covers: (name) => x509?.checkHost(name) !== undefined };
}

function filesOf(contexts: readonly TlsContextConfig[]): string[] {
  const out = new Set<string>();
  for (const c of contexts) for (const s of [c.ca_cert, c.cert_chain, c.private_key]) if (s?.kind === 'file') out.add(s.path);
  return [...out];
}

/**
 * Calls `reload` when any file of `contexts` changes (mtime, size or inode), at most once per check.
 * `reload` throws when what it read is unusable (a half-written file): the old material stays, and
 * the next change tries again. Returns the stop function.
 */
export function watchMaterial(name: string, contexts: readonly TlsContextConfig[], intervalMs: number, reload: () => void): () => void {
  const files = filesOf(contexts);
  if (intervalMs <= 0 || files.length === 0) return () => {};
  let scheduled = false;
  const onChange = (cur: { mtimeMs: number; size: number; ino: number }, prev: { mtimeMs: number; size: number; ino: number }): void => {
    if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return;
    if (scheduled) return;
    scheduled = true;
    // A certificate and its key are usually replaced one after the other: read both after a short pause.
    setTimeout(() => {
      scheduled = false;
      try {
        reload();
        log.info(`${name}: certificate files changed; new handshakes use the new material`);
      } catch (err) {
        log.warn(`${name}: certificate files changed but cannot be used yet (keeping the current ones): ${(err as Error).message}`);
      }
    }, Math.min(intervalMs, 200)).unref();
  };
  for (const f of files) watchFile(f, { interval: intervalMs, persistent: false }, onChange);
  return () => {
    for (const f of files) unwatchFile(f, onChange);
  };
}
