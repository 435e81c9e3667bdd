/**
 * TLS toward a cluster's hosts: each cluster with an enabled tls_context gets one client SecureContext
 * per worker (built once, not per dial: creating one from PEM costs far more than a handshake resumes),
 * rebuilt when its files change, so dials after a rotation present the new client certificate.
 *
 * What a dial gets: the SecureContext, SNI and the name the server certificate must carry
 * (`server_name`, else the host's name; an IP host is checked against the certificate's IP SANs),
 * verification on unless `insecure_skip`, and ALPN — the context's `alpn`, else what the client's
 * protocol needs (h2 for the HTTP/2 client, http/1.1 for the HTTP/1.1 one).
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import type { ClientTlsOptions } from '../../types/network.js';
import { secureOptions, watchMaterial } from './material.js';
import type { TlsContextConfig } from './schema.js';

class ClusterTls {
  readonly #config: TlsContextConfig;
  #context: SecureContext;
  readonly #stop: () => void;
  readonly fingerprint: string;

  constructor(name: string, config: TlsContextConfig, checkIntervalMs: number) {
    this.#config = config;
    this.fingerprint = JSON.stringify(config);
    this.#context = createSecureContext(secureOptions(config));
    this.#stop = watchMaterial(`cluster ${name}`, [config], checkIntervalMs, () => {
      this.#context = createSecureContext(secureOptions(config));
    });
  }

  options(alpn: readonly string[] | undefined): ClientTlsOptions {
    const c = this.#config;
    const protocols = c.alpn.length > 0 ? c.alpn : alpn;
    return {
      secureContext: this.#context,
      rejectUnauthorized: !c.insecure_skip,
      ...(c.server_name !== undefined ? { servername: c.server_name } : {}),
      ...(protocols !== undefined && protocols.length > 0 ? { ALPNProtocols: [...protocols] } : {}),
    };
  }

  stop(): void {
    this.#stop();
  }
}

/** A cluster as far as TLS is concerned. */
export interface ClusterTlsInput {
  readonly name: string;
  readonly tls_context?: TlsContextConfig | undefined;
}

/** The clusters of one worker that dial with TLS; updated on reload. */
export class UpstreamTlsTable {
  readonly #checkIntervalMs: number;
  #clusters = new Map<string, ClusterTls>();

  constructor(clusters: readonly ClusterTlsInput[], checkIntervalMs: number) {
    this.#checkIntervalMs = checkIntervalMs;
    this.update(clusters);
  }

  /**
   * Takes a new cluster list: unchanged contexts are kept, changed and new ones are built (throwing
   * with the cluster's name when a file cannot be read, before anything is swapped).
   */
  update(clusters: readonly ClusterTlsInput[]): void {
    const next = new Map<string, ClusterTls>();
    const built: ClusterTls[] = [];
    try {
      for (const c of clusters) {
        if (c.tls_context === undefined || !c.tls_context.status) continue;
        const old = this.#clusters.get(c.name);
        if (old !== undefined && old.fingerprint === JSON.stringify(c.tls_context)) {
          next.set(c.name, old);
          continue;
        }
        try {
          const fresh = new ClusterTls(c.name, c.tls_context, this.#checkIntervalMs);
          built.push(fresh);
          next.set(c.name, fresh);
        } catch (err) {
          throw new Error(`cluster ${c.name}: cannot load its tls_context: ${(err as Error).message}`, { cause: err });
        }
      }
    } catch (err) {
      for (const b of built) b.stop();
      throw err;
    }
    for (const [name, old] of this.#clusters) if (next.get(name) !== old) old.stop();
    this.#clusters = next;
  }

  /** TLS options for a dial to a host of `cluster`, or undefined for plaintext. */
  options(cluster: string, alpn?: readonly string[]): ClientTlsOptions | undefined {
    return this.#clusters.get(cluster)?.options(alpn);
  }

  stop(): void {
    for (const c of this.#clusters.values()) c.stop();
    this.#clusters.clear();
  }
}
