/**
 * Config pieces the stream filters' zod schemas share. Each filter registers its ConfigSpec with its
 * factory at the composition root (src/extensions.ts), so the main thread's loader validates every
 * `stream_filters[].config` before any worker starts; each factory parses its raw config with the
 * same spec (parseStreamFilterConfig), so an error names the same JSON path wherever it is found.
 */
import { z } from 'zod';
import type { ConfigKit, ConfigSpec } from '../../types/extension.js';
import { parseWithSpec } from '../../config/filters.js';
import { TOKEN, VALUE } from '../../protocol/http1/chars.js';

/** The normalized config of a spec, validated (throws ConfigError with JSON paths otherwise). */
export function parseStreamFilterConfig<T>(name: string, spec: ConfigSpec<T>, raw: unknown, path: string): T {
  return parseWithSpec(`${name} stream filter`, spec, raw, path).config;
}

/** A percentage in [0, 100]. */
export function percentage() {
  return z.number({ error: 'expected a number from 0 to 100' }).min(0, { error: 'expected a number from 0 to 100' }).max(100, { error: 'expected a number from 0 to 100' });
}

/** An integer in [min, max]. */
export function intIn(min: number, max: number) {
  const error = `expected an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** Whether `name` is an HTTP header name (an RFC 9110 token). */
export function isHeaderName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) if (TOKEN[name.charCodeAt(i)] !== 1) return false;
  return true;
}

/** An HTTP header name (an RFC 9110 token). */
export function headerName() {
  return z.string().refine(isHeaderName, { error: (iss) => `${JSON.stringify(iss.input)} is not a valid header name` });
}

/** A header value: single-line latin1, so config can never split a message. */
export function headerValue() {
  return z.string().refine(
    (v) => {
      for (let i = 0; i < v.length; i++) {
        const c = v.charCodeAt(i);
        if (c > 0xff || VALUE[c] !== 1) return false;
      }
      return true;
    },
    { error: 'control or non-latin1 character in header value' },
  );
}

/**
 * Envoy's RuntimeFeatureFlag (`{ "default_value": true, "runtime_key": "…" }`) or a plain boolean,
 * as a boolean. Ringside has no runtime layer, so `runtime_key` is warned (see each spec's ignored).
 */
export function featureFlag(k: ConfigKit) {
  return z.union([z.boolean(), k.obj({ default_value: z.boolean() }).transform((f) => f.default_value)]);
}

export const RUNTIME_KEY_IGNORED = { runtime_key: { reason: 'ignored: Ringside has no runtime overrides; default_value applies' } } as const;

/**
 * Envoy's `typed_config["@type"]` of a compression library: optional, and when set it must name the
 * library `name` picks (`…compression.gzip.compressor.v3.Gzip` for a gzip compressor), so a config
 * copied from Envoy with the wrong message type fails at load instead of meaning something else.
 */
export function typeUrlIssue(name: 'gzip' | 'brotli', side: 'compressor' | 'decompressor', url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const message = name === 'gzip' ? 'Gzip' : 'Brotli';
  const expected = `envoy.extensions.compression.${name}.${side}.v3.${message}`;
  return url === expected || url.endsWith(`/${expected}`) ? undefined : `expected "type.googleapis.com/${expected}" for the ${name} ${side} (or leave it out)`;
}
