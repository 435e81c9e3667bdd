/**
 * TLS on a listener's accepted sockets. The listener accepts as always (pauseOnConnect, listener
 * filters, max_connections), then hands the raw socket here; once the handshake passed and the client
 * was verified, the decrypted TLSSocket goes back to the listener, which builds the same
 * ConnectionImpl (read-loop and write-loop actors) on it, with the filter chain the SNI selected.
 *
 *   raw socket ─▶ engine (a tls.Server that never listens) ─ handshake, SNI, ALPN ─▶ verify client
 *        └─ timeout / bad hello / refused cert: counted by reason, logged once per peer, socket closed
 *
 * The engine is a non-listening tls.Server fed through its 'connection' event: it brings Node's
 * handshake timeout, SNI callback, ALPN and setSecureContext (rotation) without owning the fd, which
 * stays the listener's (SO_REUSEPORT, one per worker).
 *
 * Client certificates are verified after the handshake rather than by OpenSSL's fail-if-no-cert, so
 * each refusal has its reason (no certificate, expired, unknown CA) in the metrics: a refused client
 * sees its connection closed right after the handshake.
 */
import type { Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { logger } from '../../common/log.js';
import { secureOptions, serveCertificate, watchMaterial, type ServedCertificate } from './material.js';
import { serverNameMatches, type TlsContextConfig } from './schema.js';
import { countHandshake, logRefused, reasonOf } from './stats.js';

const log = logger('tls');

/** One filter chain's TLS: the SNI names it serves (none: the default chain) and its certificates. */
export interface ChainTls {
  readonly serverNames: readonly string[];
  readonly contexts: readonly TlsContextConfig[];
}

export interface DownstreamTlsOptions {
  readonly listenerName: string;
  /** One entry per filter chain, in config order. */
  readonly chains: readonly ChainTls[];
  /** 0: no limit. */
  readonly handshakeTimeoutMs: number;
  /** How often certificate files are checked for changes; 0: never re-read. */
  readonly checkIntervalMs: number;
}

/** A verified connection and the index of the filter chain its SNI selected. */
export type SecureHandler = (socket: TLSSocket, chain: number) => void;

interface LoadedChain {
  readonly serverNames: readonly string[];
  readonly certificates: readonly ServedCertificate[];
}

export class DownstreamTls {
  readonly #opts: DownstreamTlsOptions;
  readonly #engine: tls.Server;
  readonly #defaultChain: number;
  readonly #verify: boolean;
  readonly #require: boolean;
  #chains: LoadedChain[];
  #onSecure: SecureHandler = () => {};
  #stopWatching: (() => void) | null = null;
  #accepted = 0;
  #settled = 0;

  /** Reads every certificate now: throws (with the file's error) when one cannot be used. */
  constructor(opts: DownstreamTlsOptions) {
    this.#opts = opts;
    const found = opts.chains.findIndex((c) => c.serverNames.length === 0);
    this.#defaultChain = found < 0 ? 0 : found;
    const first = opts.chains[0]?.contexts[0];
    if (first === undefined) throw new Error(`listener ${opts.listenerName}: TLS without a tls_context`);
    // One policy per listener (the schema checks every context agrees).
    this.#verify = first.verify_client;
    this.#require = first.require_client_cert;
    this.#chains = this.#load();
    const alpn: string[] = [];
    for (const c of opts.chains) for (const t of c.contexts) for (const p of t.alpn) if (!alpn.includes(p)) alpn.push(p);
    this.#engine = tls.createServer({
      ...this.#defaultOptions(),
      requestCert: this.#verify || this.#require,
      rejectUnauthorized: false,
      ...(alpn.length > 0 ? { ALPNProtocols: alpn } : {}),
      handshakeTimeout: opts.handshakeTimeoutMs > 0 ? opts.handshakeTimeoutMs : 0x7fffffff,
      SNICallback: (name, cb) => cb(null, this.#certificateFor(name).context),
    });
    this.#engine.on('secureConnection', (socket: TLSSocket) => this.#secured(socket));
    this.#engine.on('tlsClientError', (err: Error, socket: TLSSocket) => this.#failed(err, socket));
  }

  /** Handshakes in progress (they count toward the listener's max_connections). */
  get pending(): number {
    return this.#accepted - this.#settled;
  }

  /** Where verified connections go (the listener's install). */
  onSecure(handler: SecureHandler): void {
    this.#onSecure = handler;
  }

  /** Starts the handshake on an accepted (paused) socket. */
  accept(raw: Socket): void {
    this.#accepted++;
    raw.on('error', () => {}); // the TLS socket reports the failure (tlsClientError)
    this.#engine.emit('connection', raw);
  }

  /** Re-reads certificates when their files change, until stop(). */
  start(): void {
    if (this.#stopWatching !== null) return;
    const contexts = this.#opts.chains.flatMap((c) => c.contexts);
    this.#stopWatching = watchMaterial(`listener ${this.#opts.listenerName}`, contexts, this.#opts.checkIntervalMs, () => this.reload());
  }

  stop(): void {
    this.#stopWatching?.();
    this.#stopWatching = null;
  }

  /** Reads the certificate files again; new handshakes use them, open connections keep theirs. */
  reload(): void {
    const chains = this.#load();
    const defaults = this.#defaultOptions();
    this.#chains = chains;
    this.#engine.setSecureContext({ ...defaults });
  }

  #load(): LoadedChain[] {
    return this.#opts.chains.map((c) => ({ serverNames: c.serverNames, certificates: c.contexts.map((t) => serveCertificate(t)) }));
  }

  /** The default chain's first context: what a client without SNI (or an unknown name) gets. */
  #defaultOptions(): tls.SecureContextOptions {
    return secureOptions(this.#opts.chains[this.#defaultChain]!.contexts[0]!);
  }

  #chainFor(serverName: string | false | null | undefined): number {
    if (typeof serverName !== 'string' || serverName === '') return this.#defaultChain;
    const name = serverName.toLowerCase();
    const i = this.#chains.findIndex((c) => c.serverNames.some((p) => serverNameMatches(p, name)));
    return i < 0 ? this.#defaultChain : i;
  }

  #certificateFor(serverName: string): ServedCertificate {
    const chain = this.#chains[this.#chainFor(serverName)]!;
    const name = serverName.toLowerCase();
    return chain.certificates.find((c) => c.covers(name)) ?? chain.certificates[0]!;
  }

  #secured(socket: TLSSocket): void {
    this.#settled++;
    const refusal = this.#clientRefusal(socket);
    const peer = socket.remoteAddress ?? 'unix';
    if (refusal !== null) {
      countHandshake('downstream', this.#opts.listenerName, refusal.reason);
      logRefused(`listener ${this.#opts.listenerName}`, peer, refusal.reason, refusal.detail);
      socket.destroy();
      return;
    }
    countHandshake('downstream', this.#opts.listenerName, 'ok');
    try {
      this.#onSecure(socket, this.#chainFor(socket.servername));
    } catch (err) {
      log.error(`listener ${this.#opts.listenerName}: installing a TLS connection failed`, err);
      socket.destroy();
    }
  }

  #clientRefusal(socket: TLSSocket): { reason: string; detail: string } | null {
    if (!this.#verify && !this.#require) return null;
    const cert = socket.getPeerCertificate();
    const hasCert = cert !== null && typeof cert === 'object' && Object.keys(cert).length > 0;
    if (!hasCert) return this.#require ? { reason: 'NO_CLIENT_CERTIFICATE', detail: 'a client certificate is required' } : null;
    if (this.#verify && !socket.authorized) {
      const code = String(socket.authorizationError ?? 'UNVERIFIED_CLIENT_CERTIFICATE');
      return { reason: code, detail: `client certificate rejected: ${code}` };
    }
    return null;
  }

  #failed(err: Error, socket: TLSSocket): void {
    this.#settled++;
    const reason = reasonOf(err);
    countHandshake('downstream', this.#opts.listenerName, reason);
    // A peer that connects and leaves without a hello (a port probe, a health check) is counted only.
    if (reason !== 'ECONNRESET') logRefused(`listener ${this.#opts.listenerName}`, socket.remoteAddress ?? 'unix', reason, err.message);
    socket.destroy();
  }
}
