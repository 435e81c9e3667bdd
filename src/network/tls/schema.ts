/**
 * MOSN's `tls_context`, validated and normalized: on a listener's filter chain (`tls_context`, or
 * `tls_context_set` for several certificates picked by SNI) and on a cluster (TLS toward its hosts).
 *
 * `ca_cert`, `cert_chain` and `private_key` are inline PEM (text starting with "-----BEGIN") or file
 * paths. Files are read here, so a missing file or a bad PEM fails the load with the key's JSON path;
 * the normalized config keeps the path (not the bytes), because workers read the files again when they
 * change on disk (certificate rotation, src/network/tls/material.ts).
 *
 * Keys MOSN has and Ringside does not build (`type` extensions, `fall_back`, `extend_verify`,
 * `sds_source`, `ticket`) are errors with their path rather than silently inert.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getCiphers } from 'node:tls';
import { z } from 'zod';
import type { ConfigKit } from '../../types/extension.js';

/** Where PEM comes from: a file (re-read on change) or the config text itself. */
export type PemSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'inline'; readonly pem: string };

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** MOSN's spellings (TLS1.2), Node's (TLSv1.2) and bare numbers (1.2). */
const VERSIONS: Record<string, TlsVersion> = {
  'TLS1.0': 'TLSv1',
  'TLSV1': 'TLSv1',
  'TLSV1.0': 'TLSv1',
  '1.0': 'TLSv1',
  'TLS1.1': 'TLSv1.1',
  'TLSV1.1': 'TLSv1.1',
  '1.1': 'TLSv1.1',
  'TLS1.2': 'TLSv1.2',
  'TLSV1.2': 'TLSv1.2',
  '1.2': 'TLSv1.2',
  'TLS1.3': 'TLSv1.3',
  'TLSV1.3': 'TLSv1.3',
  '1.3': 'TLSv1.3',
};
const VERSION_ORDER: TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** MOSN's cipher names (Go's, dashed) that OpenSSL spells differently; GCM ones are the same in both. */
const MOSN_CIPHERS: Record<string, string> = {
  'ECDHE-ECDSA-WITH-CHACHA20-POLY1305': 'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-WITH-CHACHA20-POLY1305': 'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES256-CBC-SHA': 'ECDHE-RSA-AES256-SHA',
  'ECDHE-RSA-AES128-CBC-SHA': 'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-CBC-SHA': 'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-ECDSA-AES128-CBC-SHA': 'ECDHE-ECDSA-AES128-SHA',
  'RSA-AES256-CBC-SHA': 'AES256-SHA',
  'RSA-AES128-CBC-SHA': 'AES128-SHA',
  'ECDHE-RSA-3DES-EDE-CBC-SHA': 'ECDHE-RSA-DES-CBC3-SHA',
  'RSA-3DES-EDE-CBC-SHA': 'DES-CBC3-SHA',
};
const MOSN_CURVES: Record<string, string> = { x25519: 'X25519', p256: 'P-256', p384: 'P-384', p521: 'P-521' };
/** ALPN names a listener's codec choice understands (MOSN also lists SOFA, which has no ALPN id here). */
const ALPN_IDS: Record<string, string> = { h2: 'h2', 'http/1.1': 'http/1.1' };

/** Reads a PEM source for validation; returns the text or a message. */
export function readPem(source: PemSource): { ok: true; pem: string } | { ok: false; message: string } {
  if (source.kind === 'inline') return { ok: true, pem: source.pem };
  try {
    return { ok: true, pem: readFileSync(source.path, 'utf8') };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, message: `cannot read the file ${JSON.stringify(source.path)}: ${e.code ?? e.message}` };
  }
}

function pemSource() {
  return z
    .string()
    .min(1, { error: 'expected inline PEM ("-----BEGIN …") or a file path' })
    .transform((v): PemSource => (v.trimStart().startsWith('-----BEGIN') ? { kind: 'inline', pem: v } : { kind: 'file', path: v }));
}

type Issue = (message: string, key: string) => void;

/** Parses every certificate of a PEM bundle; the first problem is reported. */
function certificates(pem: string, key: string, issue: Issue): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    issue('no PEM certificate ("-----BEGIN CERTIFICATE-----") found', key);
    return [];
  }
  const out: X509Certificate[] = [];
  for (const [i, b] of blocks.entries()) {
    try {
      out.push(new X509Certificate(b));
    } catch (err) {
      issue(`certificate ${i + 1} is not valid PEM: ${(err as Error).message}`, key);
      return [];
    }
  }
  return out;
}

function cipherList(raw: string, issue: Issue): string {
  const known = new Set(getCiphers().map((c) => c.toUpperCase()));
  const names = raw
    .split(/[:,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out: string[] = [];
  for (const n of names) {
    const upper = n.toUpperCase();
    if (upper.includes('SM4')) issue(`cipher suite "${n}" (SM4) is not available in Node's OpenSSL`, 'cipher_suites');
    const openssl = MOSN_CIPHERS[upper] ?? upper;
    if (!known.has(openssl)) issue(`unknown cipher suite "${n}"`, 'cipher_suites');
    else out.push(openssl);
  }
  if (names.length === 0) issue('an empty cipher_suites list allows nothing; leave the key out for the defaults', 'cipher_suites');
  return out.join(':');
}

/** Checked in the context's transform (not here), so one bad value does not hide the others' issues. */
function version(v: string | undefined, k: 'min_version' | 'max_version', issue: Issue): TlsVersion | undefined {
  if (v === undefined || v === '') return undefined;
  const r = VERSIONS[v.toUpperCase()];
  if (r === undefined) issue(`${k} "${v}" is not a TLS version (TLS1.0, TLS1.1, TLS1.2, TLS1.3)`, k);
  return r;
}

/** Which end of a connection the context is for: a listener serves, a cluster dials. */
export type TlsSide = 'server' | 'client';

export function tlsContextSchema(k: ConfigKit, side: TlsSide) {
  // Accepted with MOSN's spelling so a MOSN config loads; values other than these are refused below.
  const notBuilt = {
    type: z.string().optional(),
    fall_back: z.boolean().optional(),
    extend_verify: z.unknown().optional(),
    sds_source: z.unknown().optional(),
    ticket: z.string().optional(),
  };
  return k
    .obj({
      status: z.boolean().default(false),
      ca_cert: pemSource().optional(),
      cert_chain: pemSource().optional(),
      private_key: pemSource().optional(),
      verify_client: z.boolean().default(false),
      require_client_cert: z.boolean().default(false),
      server_name: z.string().optional(),
      insecure_skip: z.boolean().default(false),
      cipher_suites: z.string().optional(),
      ecdh_curves: z.string().optional(),
      min_version: z.string().optional(),
      max_version: z.string().optional(),
      /** Comma-separated, MOSN's spelling ("h2,http/1.1"); a JSON list is accepted too. */
      alpn: z.union([z.string(), z.array(z.string())]).optional(),
      ...notBuilt,
    })
    .transform((c, ctx) => {
      const issue: Issue = (message, key) => ctx.addIssue({ code: 'custom', message, path: [key], input: (c as Record<string, unknown>)[key] });
      if (c.type !== undefined && c.type !== '') issue(`tls_context type "${c.type}" is not built in Ringside (only the default type "")`, 'type');
      if (c.fall_back === true) issue('fall_back (serving plaintext when a handshake fails) is not supported', 'fall_back');
      if (c.extend_verify !== undefined && c.extend_verify !== null && !(typeof c.extend_verify === 'object' && Object.keys(c.extend_verify).length === 0)) {
        issue('extend_verify belongs to tls_context type extensions, which Ringside does not have', 'extend_verify');
      }
      if (c.sds_source !== undefined && c.sds_source !== null) {
        issue('SDS is not supported: give ca_cert, cert_chain and private_key as files (Ringside re-reads them when they change)', 'sds_source');
      }
      if (c.ticket !== undefined && c.ticket !== '') issue('session ticket keys are not configurable in Ringside', 'ticket');
      if (side === 'server') {
        if (c.server_name !== undefined && c.server_name !== '') {
          issue('server_name applies to a cluster; a listener picks among tls_context_set by the names in each certificate', 'server_name');
        }
        if (c.insecure_skip) issue('insecure_skip applies to a cluster (it skips verifying the server)', 'insecure_skip');
      } else {
        if (c.verify_client) issue('verify_client applies to a listener', 'verify_client');
        if (c.require_client_cert) issue('require_client_cert applies to a listener', 'require_client_cert');
      }
      const alpnRaw = c.alpn === undefined ? [] : Array.isArray(c.alpn) ? c.alpn : c.alpn.split(',');
      const alpn: string[] = [];
      for (const a of alpnRaw.map((s) => s.trim()).filter((s) => s !== '')) {
        const id = ALPN_IDS[a.toLowerCase()];
        if (id === undefined) issue(`ALPN protocol "${a}" is not supported (h2, http/1.1)`, 'alpn');
        else if (!alpn.includes(id)) alpn.push(id);
      }
      const ciphers = c.cipher_suites === undefined || c.cipher_suites === '' ? undefined : cipherList(c.cipher_suites, issue);
      let curves: string | undefined;
      if (c.ecdh_curves !== undefined && c.ecdh_curves !== '') {
        const list = c.ecdh_curves.split(/[:,]/).map((s) => s.trim()).filter((s) => s !== '');
        const mapped = list.map((s) => MOSN_CURVES[s.toLowerCase()] ?? (Object.values(MOSN_CURVES).includes(s) ? s : undefined));
        list.forEach((s, i) => {
          if (mapped[i] === undefined) issue(`unknown curve "${s}" (x25519, p256, p384, p521)`, 'ecdh_curves');
        });
        curves = mapped.filter((m): m is string => m !== undefined).join(':');
      }
      const minVersion = version(c.min_version, 'min_version', issue);
      const maxVersion = version(c.max_version, 'max_version', issue);
      if (minVersion !== undefined && maxVersion !== undefined && VERSION_ORDER.indexOf(minVersion) > VERSION_ORDER.indexOf(maxVersion)) {
        issue(`min_version ${minVersion} is above max_version ${maxVersion}`, 'min_version');
      }
      if (c.status) checkMaterial(c, side, issue);
      // Each side keeps only what it acts on (the schema refused the other side's keys above).
      return {
        status: c.status,
        ca_cert: c.ca_cert,
        cert_chain: c.cert_chain,
        private_key: c.private_key,
        ...(side === 'server'
          ? { verify_client: c.verify_client, require_client_cert: c.require_client_cert, server_name: undefined, insecure_skip: false }
          : { verify_client: false, require_client_cert: false, server_name: c.server_name === '' ? undefined : c.server_name, insecure_skip: c.insecure_skip }),
        /** OpenSSL's cipher list (MOSN names mapped), or undefined for Node's defaults. */
        ciphers,
        /** OpenSSL's curve list, or undefined for Node's default. */
        curves,
        min_version: minVersion,
        max_version: maxVersion,
        alpn,
      };
    });
}

export type TlsContextConfig = z.output<ReturnType<typeof tlsContextSchema>>;

/** The PEM of an enabled context: present where its side needs it, readable, parseable, key matching. */
function checkMaterial(
  c: { ca_cert?: PemSource | undefined; cert_chain?: PemSource | undefined; private_key?: PemSource | undefined; verify_client: boolean },
  side: TlsSide,
  issue: Issue,
): void {
  if (side === 'server') {
    if (c.cert_chain === undefined) issue('a listener with TLS needs cert_chain (its certificate)', 'cert_chain');
    if (c.private_key === undefined) issue('a listener with TLS needs private_key', 'private_key');
    if (c.verify_client && c.ca_cert === undefined) issue('verify_client needs ca_cert (the CA client certificates are checked against)', 'ca_cert');
  } else if ((c.cert_chain === undefined) !== (c.private_key === undefined)) {
    issue('a client certificate needs both cert_chain and private_key', c.cert_chain === undefined ? 'cert_chain' : 'private_key');
  }
  const read = (key: 'ca_cert' | 'cert_chain' | 'private_key'): string | undefined => {
    const src = c[key];
    if (src === undefined) return undefined;
    const r = readPem(src);
    if (!r.ok) {
      issue(r.message, key);
      return undefined;
    }
    return r.pem;
  };
  const ca = read('ca_cert');
  if (ca !== undefined) certificates(ca, 'ca_cert', issue);
  const chain = read('cert_chain');
  const leaf = chain === undefined ? undefined : certificates(chain, 'cert_chain', issue)[0];
  const keyPem = read('private_key');
  if (keyPem === undefined) return;
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    issue(`not a valid PEM private key: ${(err as Error).message}`, 'private_key');
    return;
  }
  if (leaf !== undefined && !leaf.checkPrivateKey(key)) issue('private_key does not match the certificate in cert_chain', 'private_key');
}

const ENVOY_MATCH_KEYS = [
  'destination_port',
  'prefix_ranges',
  'address_suffix',
  'suffix_len',
  'direct_source_prefix_ranges',
  'source_type',
  'source_prefix_ranges',
  'source_ports',
  'transport_protocol',
  'application_protocols',
];

/** Envoy's filter_chain_match with the one criterion Ringside matches on: the SNI server name. */
export function filterChainMatchSchema(k: ConfigKit) {
  const shape: Record<string, z.ZodType> = { server_names: z.array(z.string().min(1)).min(1, { error: 'list at least one server name' }) };
  for (const key of ENVOY_MATCH_KEYS) shape[key] = z.unknown().optional();
  return k.obj(shape).transform((m, ctx) => {
    for (const key of ENVOY_MATCH_KEYS) {
      if (m[key] !== undefined && m[key] !== null) ctx.addIssue({ code: 'custom', message: `filter_chain_match.${key} is not supported (Ringside matches filter chains on server_names, the TLS SNI)`, path: [key], input: m[key] });
    }
    return { server_names: (m['server_names'] as string[]).map((n) => n.toLowerCase()) };
  });
}

/** A server name pattern: exact, or "*.example.com" for any one-or-more-label prefix. */
export function serverNameMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('*.')) return name.length > pattern.length - 1 && name.endsWith(pattern.slice(1));
  return pattern === name;
}

interface ChainTlsShape {
  tls_context?: TlsContextConfig | undefined;
  tls_context_set?: TlsContextConfig[] | undefined;
  filter_chain_match?: { server_names: string[] } | undefined;
}

/** How a listener verifies clients: one policy per listener (one CA store serves every handshake). */
function clientPolicy(c: TlsContextConfig): string {
  return JSON.stringify([c.verify_client, c.require_client_cert, c.ca_cert ?? null]);
}

/**
 * Listener-wide TLS rules: every chain or none has TLS; at most one chain without server_names (the
 * default); no server name in two chains; one client-verification policy for the listener; no TLS on
 * an in-process listener (nothing leaves the process there). Issues are reported at their paths.
 */
export function checkListenerTls(
  chains: readonly ChainTlsShape[],
  inProcess: boolean,
  addIssue: (message: string, path: (string | number)[]) => void,
): void {
  const enabled = (c: ChainTlsShape): TlsContextConfig[] => [...(c.tls_context !== undefined ? [c.tls_context] : []), ...(c.tls_context_set ?? [])].filter((t) => t.status);
  const withTls = chains.map((c) => enabled(c).length > 0);
  chains.forEach((c, i) => {
    if (c.tls_context !== undefined && c.tls_context_set !== undefined) addIssue('use tls_context or tls_context_set, not both', ['filter_chains', i, 'tls_context_set']);
    if (c.filter_chain_match !== undefined && !withTls[i]) addIssue('server_names match the TLS SNI: this chain needs an enabled tls_context', ['filter_chains', i, 'filter_chain_match']);
  });
  if (!withTls.some(Boolean)) return;
  if (inProcess) addIssue('TLS needs a socket listener (tcp or unix); an in-process listener never leaves the process', ['filter_chains', withTls.indexOf(true), 'tls_context']);
  withTls.forEach((on, i) => {
    if (!on) addIssue('every filter chain of a TLS listener needs an enabled tls_context (plaintext and TLS on one port is not supported)', ['filter_chains', i]);
  });
  const defaults = chains.map((c, i) => (c.filter_chain_match === undefined ? i : -1)).filter((i) => i >= 0);
  if (chains.length > 1) {
    defaults.slice(1).forEach((i) => addIssue('only one filter chain may leave out filter_chain_match (the default chain); the others need server_names', ['filter_chains', i]));
  }
  const seen = new Map<string, number>();
  chains.forEach((c, i) =>
    (c.filter_chain_match?.server_names ?? []).forEach((n, j) => {
      const first = seen.get(n);
      if (first !== undefined) addIssue(`server name "${n}" is already matched by filter_chains[${first}]`, ['filter_chains', i, 'filter_chain_match', 'server_names', j]);
      else seen.set(n, i);
    }),
  );
  const all = chains.flatMap((c) => enabled(c));
  const policy = all[0] === undefined ? '' : clientPolicy(all[0]);
  chains.forEach((c, i) => {
    const list = c.tls_context !== undefined ? [{ t: c.tls_context, path: ['filter_chains', i, 'tls_context'] }] : (c.tls_context_set ?? []).map((t, j) => ({ t, path: ['filter_chains', i, 'tls_context_set', j] }));
    for (const { t, path } of list) {
      if (t.status && clientPolicy(t) !== policy) {
        addIssue('every tls_context of one listener must verify clients the same way (same verify_client, require_client_cert and ca_cert)', path as (string | number)[]);
      }
    }
  });
}
