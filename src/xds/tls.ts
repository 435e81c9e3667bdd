/**
 * Envoy's TLS transport socket (`envoy.transport_sockets.tls`) as MOSN's tls_context: a listener
 * chain's DownstreamTlsContext and a cluster's UpstreamTlsContext. Certificates come from data
 * sources: `filename` (kept as a path, so rotation on disk works as for a file config), `inline_string`
 * or `inline_bytes` (PEM text). SDS and other validation features Ringside does not build are refused
 * with the field's path, which the client NACKs.
 */
import type { EnvoyProtos } from './protos.js';
import { XdsFieldError } from './field-error.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const DOWNSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const UPSTREAM = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const VERSIONS: Record<string, string | undefined> = { TLS_AUTO: undefined, TLSv1_0: 'TLS1.0', TLSv1_1: 'TLS1.1', TLSv1_2: 'TLS1.2', TLSv1_3: 'TLS1.3' };
const NOT_BUILT_COMMON = ['tls_certificate_sds_secret_configs', 'validation_context_sds_secret_config', 'combined_validation_context', 'tls_certificate_provider_instance', 'custom_handshaker', 'key_log'];

function dataSource(v: unknown, path: string): string {
  const d = obj(v);
  if (typeof d['filename'] === 'string' && d['filename'] !== '') return d['filename'];
  if (typeof d['inline_string'] === 'string' && d['inline_string'] !== '') return d['inline_string'];
  if (d['inline_bytes'] instanceof Uint8Array && d['inline_bytes'].length > 0) return Buffer.from(d['inline_bytes']).toString('utf8');
  if (d['environment_variable'] !== undefined) throw new XdsFieldError(`${path}.environment_variable`, 'data sources from environment variables are not supported (use filename or inline data)');
  throw new XdsFieldError(path, 'a data source needs filename, inline_string or inline_bytes');
}

function common(c: Obj, path: string, out: Obj, warnings: string[]): boolean {
  for (const key of NOT_BUILT_COMMON) if (c[key] !== undefined) throw new XdsFieldError(`${path}.${key}`, 'not supported: give certificates as tls_certificates and validation_context (filename or inline)');
  const certs = arr(c['tls_certificates']).map(obj);
  if (certs.length > 1) throw new XdsFieldError(`${path}.tls_certificates[1]`, 'one certificate per context (several chains are told apart by filter_chain_match.server_names)');
  if (certs[0] !== undefined) {
    out['cert_chain'] = dataSource(certs[0]['certificate_chain'], `${path}.tls_certificates[0].certificate_chain`);
    out['private_key'] = dataSource(certs[0]['private_key'], `${path}.tls_certificates[0].private_key`);
  }
  const params = obj(c['tls_params']);
  for (const [key, to] of [['tls_minimum_protocol_version', 'min_version'], ['tls_maximum_protocol_version', 'max_version']] as const) {
    const v = params[key];
    if (typeof v === 'string' && VERSIONS[v] !== undefined) out[to] = VERSIONS[v];
  }
  const ciphers = arr(params['cipher_suites']).filter((s): s is string => typeof s === 'string');
  if (ciphers.length > 0) out['cipher_suites'] = ciphers.join(':');
  const curves = arr(params['ecdh_curves']).filter((s): s is string => typeof s === 'string');
  if (curves.length > 0) out['ecdh_curves'] = curves.join(',');
  const alpn = arr(c['alpn_protocols']).filter((s): s is string => typeof s === 'string');
  if (alpn.length > 0) out['alpn'] = alpn.join(',');
  const validation = c['validation_context'];
  if (validation === undefined) return false;
  const v = obj(validation);
  for (const key of ['match_subject_alt_names', 'match_typed_subject_alt_names', 'verify_certificate_spki', 'verify_certificate_hash', 'crl', 'custom_validator_config']) {
    if (v[key] !== undefined && !(Array.isArray(v[key]) && (v[key] as unknown[]).length === 0)) throw new XdsFieldError(`${path}.validation_context.${key}`, 'not supported (Ringside verifies the chain against trusted_ca)');
  }
  if (v['trusted_ca'] === undefined) throw new XdsFieldError(`${path}.validation_context.trusted_ca`, 'a validation context needs trusted_ca');
  out['ca_cert'] = dataSource(v['trusted_ca'], `${path}.validation_context.trusted_ca`);
  void warnings;
  return true;
}

function typedContext(ts: Obj, expected: string, path: string, protos: EnvoyProtos): Obj {
  const typed = obj(ts['typed_config']);
  const url = typeof typed['type_url'] === 'string' ? typed['type_url'] : '';
  if (url !== expected) throw new XdsFieldError(`${path}.typed_config`, `transport socket ${url || String(ts['name'] ?? '?')} is not supported (envoy.transport_sockets.tls with ${expected.split('.').pop()})`);
  try {
    return protos.unpack(typed as { type_url: string; value: Uint8Array });
  } catch (err) {
    throw new XdsFieldError(`${path}.typed_config`, (err as Error).message);
  }
}

/** A listener chain's transport_socket → its tls_context. */
export function downstreamTls(ts: unknown, path: string, protos: EnvoyProtos, warnings: string[]): Obj {
  const ctx = typedContext(obj(ts), DOWNSTREAM, path, protos);
  const p = `${path}.typed_config`;
  const out: Obj = { status: true };
  const verifies = common(obj(ctx['common_tls_context']), `${p}.common_tls_context`, out, warnings);
  if (out['cert_chain'] === undefined) throw new XdsFieldError(`${p}.common_tls_context.tls_certificates`, 'a listener needs its certificate');
  // Envoy verifies a client certificate when there is a validation context; require_client_certificate demands one.
  out['verify_client'] = verifies;
  out['require_client_cert'] = obj(ctx['require_client_certificate'])['value'] === true;
  for (const key of Object.keys(ctx)) if (!['common_tls_context', 'require_client_certificate'].includes(key)) warnings.push(`${p}.${key}: not acted on by Ringside`);
  return out;
}

/** A cluster's transport_socket → its tls_context. */
export function upstreamTls(ts: unknown, path: string, protos: EnvoyProtos, warnings: string[]): Obj {
  const ctx = typedContext(obj(ts), UPSTREAM, path, protos);
  const p = `${path}.typed_config`;
  const out: Obj = { status: true };
  const verifies = common(obj(ctx['common_tls_context']), `${p}.common_tls_context`, out, warnings);
  if (typeof ctx['sni'] === 'string' && ctx['sni'] !== '') out['server_name'] = ctx['sni'];
  // Without a validation context Envoy does not verify the server; with one, Ringside also checks the
  // certificate's name against sni (or the host address), as MOSN's server_name does.
  if (!verifies) out['insecure_skip'] = true;
  else warnings.push(`${p}.common_tls_context.validation_context: the server certificate must also carry the name ${String(out['server_name'] ?? 'of the host address')}`);
  for (const key of Object.keys(ctx)) if (!['common_tls_context', 'sni'].includes(key)) warnings.push(`${p}.${key}: not acted on by Ringside`);
  return out;
}
