/**
 * Every stream filter's config is validated by the loader, in the main thread, through the zod spec
 * its factory registers: a bad value is an error at its JSON path, an unknown key a warning, and the
 * defaults are MOSN's and Envoy's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertIssue, baseConfig, configIssues, parse } from './helpers.js';
import { configCatalog } from '../../src/extensions.js';
import { parseWithSpec } from '../../src/config/filters.js';
import type { CompressorConfig } from '../../src/stream/filters/compressor.js';
import type { DecompressorConfig } from '../../src/stream/filters/decompressor.js';

const at = (i: number): string => `servers[0].listeners[0].stream_filters[${i}].config`;

function withFilters(filters: unknown[]) {
  const cfg = baseConfig();
  Object.assign(cfg.servers[0]!.listeners[0]!, { stream_filters: filters });
  return cfg;
}

test('bad stream filter values are errors at their JSON path, found by the loader', () => {
  const issues = configIssues(() =>
    parse(
      withFilters([
        { type: 'fault', config: { delay: { fixed_delay: '10 parsecs', percentage: 5 } } },
        { type: 'fault', config: { abort: { status: 99, percentage: 101 } } },
        { type: 'fault', config: {} },
        { type: 'fault', config: { abort: { status: 503, percentage: 1 }, upstream_cluster: 'c1' } },
        { type: 'header_mutation', config: { request: { set: { 'X-A': 'a\r\nInjected: 1' }, add: { 'Bad Name': 'v' }, remove: [1] } } },
        { type: 'compressor', config: { compressor_library: { name: 'zstd' } } },
        { type: 'compressor', config: { compressor_library: { name: 'gzip', typed_config: { compression_level: 12 } }, offload_min_bytes: -1 } },
        { type: 'compressor', config: { compressor_library: { name: 'gzip', typed_config: { quality: 4 } } } },
        { type: 'decompressor', config: { decompressor_library: { name: 'zstd' }, response_direction_config: { common_config: { enabled: 'yes' } } } },
        { type: 'decompressor', config: { decompressor_library: { name: 'gzip', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip' } } } },
        { type: 'fault', config: { delay: { fixed_delay: '1s', percentage: 10 }, headers: [{ name: 'x-a', value: '(', regex: true }] } },
      ]),
    ),
  );
  assertIssue(issues, `${at(0)}.delay.fixed_delay`, /duration/);
  assertIssue(issues, `${at(1)}.abort.status`, /integer from 200 to 599/);
  assertIssue(issues, `${at(1)}.abort.percentage`, /from 0 to 100/);
  assertIssue(issues, at(2), /needs "delay", "abort" or both/);
  assertIssue(issues, `${at(3)}.upstream_cluster`, /not supported: stream filters run before routing/);
  assertIssue(issues, `${at(4)}.request.set.X-A`, /control or non-latin1/);
  assertIssue(issues, `${at(4)}.request.add["Bad Name"]`, /not a valid header name/);
  assertIssue(issues, `${at(4)}.request.remove[0]`, /expected string/);
  assertIssue(issues, `${at(5)}.compressor_library.name`, /expected "gzip" or "brotli"/);
  assertIssue(issues, `${at(6)}.compressor_library.typed_config.compression_level`, /integer from 1 to 9/);
  assertIssue(issues, `${at(6)}.offload_min_bytes`, /integer from 0/);
  assertIssue(issues, `${at(7)}.compressor_library.typed_config.quality`, /a brotli setting; gzip takes compression_level/);
  assertIssue(issues, `${at(8)}.decompressor_library.name`, /expected "gzip" or "brotli"/);
  assertIssue(issues, `${at(8)}.response_direction_config.common_config.enabled`, /expected boolean or object/);
  assertIssue(issues, `${at(9)}.decompressor_library.typed_config["@type"]`, /expected "type.googleapis.com\/envoy.extensions.compression.gzip.decompressor.v3.Gzip"/);
  assertIssue(issues, `${at(10)}.headers[0].value`, /invalid regular expression/);
});

test("unknown keys and MOSN's never-injecting defaults are warned with their path; valid configs load", () => {
  const { warnings } = parse(
    withFilters([
      { type: 'fault', config: { abort: { status: 503, percent: 5 } } },
      { type: 'compressor', config: { compressor_library: { name: 'brotli', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli', quality: 4, window_bits: 18 } }, response_direction_config: { common_config: { enabled: { default_value: true, runtime_key: 'k' } } } } },
      { type: 'header_mutation', config: { reqest: {}, response: { set: { server: 'ringside' } } } },
    ]),
  );
  assert.deepEqual(warnings.filter((w) => w.startsWith('servers[0].listeners[0].stream_filters')).sort(), [
    `${at(0)}.abort.percent: unknown key, ignored`,
    `${at(0)}.abort.percentage: absent: 0, so the abort is never injected (MOSN's default); set a percentage`,
    `${at(1)}.compressor_library.typed_config.window_bits: ignored: Node's zlib defaults apply; only compression_level (gzip) and quality (brotli) are tuned`,
    `${at(1)}.response_direction_config.common_config.enabled.runtime_key: ignored: Ringside has no runtime overrides; default_value applies`,
    `${at(2)}.reqest: unknown key, ignored`,
  ]);
});

test("compressor and decompressor defaults are Envoy's", () => {
  const streamFilters = configCatalog().streamFilters;
  const c = parseWithSpec('compressor', streamFilters.spec('compressor')!, { compressor_library: { name: 'gzip', typed_config: { compression_level: 'BEST_SPEED' } } }, 'f').config as CompressorConfig;
  assert.equal(c.level, 1);
  assert.equal(c.response.common_config.enabled, true);
  assert.equal(c.response.common_config.min_content_length, 30);
  assert.ok(c.response.common_config.content_type.includes('application/json'));
  assert.equal(c.request, undefined, 'requests are compressed only when request_direction_config is present');
  const d = parseWithSpec('decompressor', streamFilters.spec('decompressor')!, { decompressor_library: { name: 'brotli' } }, 'f').config as DecompressorConfig;
  assert.equal(d.request_direction_config.common_config.enabled, true);
  assert.equal(d.request_direction_config.advertise_accept_encoding, true);
  assert.equal(d.response_direction_config.common_config.enabled, true);
  assert.equal(d.response_direction_config.common_config.ignore_no_transform_header, false);
});
