/**
 * The README's configuration section names exactly the keys Ringside accepts: every input key of the
 * core schema and of each registered extension's spec (network filters, stream filters, channel protocols) has a row
 * in its tables, and every row names a key the schema has; likewise the table of keys accepted and
 * not acted on matches the loader's warn-table (src/config/ignored.ts and each spec's `ignored`),
 * including which of them stay quiet when empty.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchemas } from '../../src/config/schema.js';
import { specPair } from '../../src/config/kit.js';
import { CONFIG_IGNORED } from '../../src/config/ignored.js';
import { configCatalog } from '../../src/extensions.js';
import type { IgnoredTable, SpecTable } from '../../src/types/extension.js';
import { schemaLeaves } from './schema-keys.js';

const FILTER_BASE = 'servers[].listeners[].filter_chains[].filters[].config';
const STREAM_FILTER_BASE = 'servers[].listeners[].stream_filters[].config';

function readme(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'README.md')) || !existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('README.md not found above the test');
    dir = up;
  }
  return readFileSync(join(dir, 'README.md'), 'utf8');
}

/** The `## Configuration` section, up to the next second-level heading. */
function configSection(text: string): string {
  const start = text.indexOf('\n## Configuration\n');
  assert.ok(start >= 0, 'README has no "## Configuration" section');
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

const cells = (line: string): string[] => line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
const ticked = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
const join2 = (base: string, key: string): string => (base === '' ? key : key === '' ? base : key.startsWith('[') ? `${base}${key}` : `${base}.${key}`);
/** `filters[].config<proxy>…` and `stream_filters[].config<fault>…` are the README's short forms of an extension's config path. */
const expand = (where: string): string =>
  where.startsWith('filters[].config<') ? `servers[].listeners[].filter_chains[].${where}` : where.startsWith('stream_filters[].config<') ? `servers[].listeners[].${where}` : where;

interface Documented {
  keys: Set<string>;
  /** Warned keys, each with whether the README marks it quiet. */
  ignored: Map<string, boolean>;
}

/** Reads every table of the section: key tables ("key under `base`", "key of the `x` filter's config") and the warn table. */
function documented(section: string): Documented {
  const keys = new Set<string>();
  const ignored = new Map<string, boolean>();
  let base: string | null = null;
  let warnTable = false;
  const lines = section.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith('|')) {
      base = null;
      warnTable = false;
      continue;
    }
    const row = cells(line);
    if (/^-+$/.test(row[0]!.replace(/[:\s]/g, ''))) continue;
    const previous = lines[i - 1] ?? '';
    if (!previous.startsWith('|')) {
      // A header row decides what the table's rows are.
      const head = row[0]!;
      const under = /^key under `([^`]*)`$/.exec(head);
      const filter = /^key of the `(\w+)` filter's config$/.exec(head);
      const streamFilter = /^key of the `(\w+)` stream filter's config$/.exec(head);
      const channel = /^key of the `(\w+)` channel's ext$/.exec(head);
      base = under ? under[1]! : filter ? `${FILTER_BASE}<${filter[1]}>` : streamFilter ? `${STREAM_FILTER_BASE}<${streamFilter[1]}>` : channel ? `channel<${channel[1]}>` : null;
      warnTable = head === 'where';
      assert.ok(base !== null || warnTable, `README configuration table with an unknown header: ${line}`);
      continue;
    }
    if (base !== null) {
      const key = ticked(row[0]!);
      assert.equal(key.length, 1, `a key row names one key in backticks: ${line}`);
      keys.add(join2(base, key[0]!));
    } else if (warnTable) {
      const where = row[0] === '(top level)' ? '' : expand(ticked(row[0]!)[0] ?? '');
      // Rows about index positions (`channel[1]`, `servers[1..]`) are warned by checks, not by the table.
      if (where.includes('..')) continue;
      const quiet = row[1]!.includes('*quiet*');
      for (const k of ticked(row[1]!)) if (!k.includes('[')) ignored.set(join2(where, k), quiet);
    }
  }
  return { keys, ignored };
}

function specKeys(table: SpecTable, base: (name: string) => string, out: Set<string>, ignored: Map<string, boolean>): void {
  for (const name of table.names()) {
    const spec = table.spec(name);
    if (spec === undefined) continue;
    const leaves = new Set<string>();
    schemaLeaves(specPair(spec).data, '', leaves);
    for (const l of leaves) if (l !== '') out.add(join2(base(name), l));
    addIgnored(spec.ignored ?? {}, base(name), ignored);
  }
}

function addIgnored(table: IgnoredTable, base: string, out: Map<string, boolean>): void {
  for (const [where, keys] of Object.entries(table)) {
    for (const [key, rule] of Object.entries(keys)) out.set(join2(join2(base, where), key), rule.quietWhenEmpty === true);
  }
}

test("the README's configuration tables list exactly the keys the schema accepts and the keys the loader warns about", () => {
  const catalog = configCatalog();
  const schemaKeys = new Set<string>();
  schemaLeaves(buildSchemas(false, { workers: 1, daprGrpcPort: 1, daprHttpPort: 1, daprApiToken: undefined }, catalog).config, '', schemaKeys);
  const warned = new Map<string, boolean>();
  addIgnored(CONFIG_IGNORED, '', warned);
  specKeys(catalog.networkFilters, (n) => `${FILTER_BASE}<${n}>`, schemaKeys, warned);
  specKeys(catalog.streamFilters, (n) => `${STREAM_FILTER_BASE}<${n}>`, schemaKeys, warned);
  specKeys(catalog.channels, (n) => `channel<${n}>`, schemaKeys, warned);

  const doc = documented(configSection(readme()));
  assert.deepEqual([...schemaKeys].filter((k) => !doc.keys.has(k)), [], 'keys the schema accepts that the README configuration section does not list');
  assert.deepEqual([...doc.keys].filter((k) => !schemaKeys.has(k)), [], 'keys the README lists that the schema does not accept');
  assert.deepEqual([...warned.keys()].filter((k) => !doc.ignored.has(k)), [], 'keys the loader warns about that the README does not list');
  assert.deepEqual([...doc.ignored.keys()].filter((k) => !warned.has(k)), [], 'keys the README lists as warned that the loader does not know');
  const quietDiffers = [...warned].filter(([k, quiet]) => doc.ignored.has(k) && doc.ignored.get(k) !== quiet).map(([k, quiet]) => `${k}: ${quiet ? 'quiet' : 'always warned'}`);
  assert.deepEqual(quietDiffers, [], 'warned keys whose *quiet* mark in the README differs from the code');
});
