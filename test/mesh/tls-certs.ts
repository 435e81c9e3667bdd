/**
 * Certificates for the TLS tests, made by openssl in a temporary folder: a CA, server certificates
 * with the names the tests connect to, client certificates (valid, expired, from another CA).
 * EC P-256 keys: generating them takes milliseconds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issued {
  cert: string;
  key: string;
}

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'ringside-pki-'));
  readonly #caName: string;
  #serial = 1;

  /** A CA named `name`, self-signed, in the folder. */
  constructor(name = 'ca') {
    this.#caName = name;
    this.#openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', this.path(`${name}.key`), '-out', this.path(`${name}.pem`), '-days', '2', '-subj', `/CN=${name}`]);
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  get ca(): string {
    return this.path(`${this.#caName}.pem`);
  }

  /**
   * Issues `name`.pem / `name`.key signed by this CA, with DNS and IP SANs; days < 0 makes it expired.
   * With `replace`, the files are swapped in by rename (how certificate managers rotate them).
   */
  issue(name: string, cn: string, sans: string[] = [], days = 1, replace = false): Issued {
    const tmp = replace ? `${name}.next` : name;
    const key = this.path(`${tmp}.key`);
    const csr = this.path(`${tmp}.csr`);
    const cert = this.path(`${tmp}.pem`);
    this.#openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
    const ext = this.path(`${tmp}.ext`);
    writeFileSync(ext, sans.length > 0 ? `subjectAltName=${sans.join(',')}\n` : 'basicConstraints=CA:FALSE\n');
    const serial = `0x${(Date.now() * 100 + this.#serial++).toString(16)}`;
    this.#openssl(['x509', '-req', '-in', csr, '-CA', this.ca, '-CAkey', this.path(`${this.#caName}.key`), '-set_serial', serial, '-out', cert, '-days', String(days), '-extfile', ext]);
    if (!replace) return { cert, key };
    // Key first, then the certificate: a reader between the two sees a mismatched pair and retries.
    renameSync(key, this.path(`${name}.key`));
    renameSync(cert, this.path(`${name}.pem`));
    return { cert: this.path(`${name}.pem`), key: this.path(`${name}.key`) };
  }

  read(file: string): string {
    return readFileSync(file, 'utf8');
  }

  #openssl(args: string[]): void {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }
}
