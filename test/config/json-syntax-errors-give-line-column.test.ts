import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { configCatalog } from '../../src/extensions.js';

const catalog = configCatalog();

function syntaxError(text: string): ConfigError {
  try {
    parseConfigText(text, 'bad.json', { env: {}, catalog });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('a missing comma is reported at its line and column', () => {
  const err = syntaxError('{\n  "servers": [\n    {"listeners": []}\n    {"routers": []}\n  ]\n}\n');
  assert.match(err.message, /line 4, column 5: unexpected '\{', expected ',' or '\]'/);
  assert.match(err.source, /^bad\.json:4:5$/);
});

test('a trailing comma is reported at its line and column', () => {
  const err = syntaxError('{\n  "servers": [],\n}');
  assert.match(err.message, /line 3, column 1/);
});

test('an unexpected token V8 gives no position for is still located', () => {
  const err = syntaxError('{"servers": [}');
  assert.match(err.message, /line 1, column 14: unexpected '\}', expected a value/);
});

test('a raw newline inside a string is located where it sits', () => {
  const err = syntaxError('{\n"servers": "abc\n"}');
  assert.match(err.message, /line 2, column 16: unescaped control character in string/);
});

test('an unterminated string is located at the end of the text', () => {
  const err = syntaxError('{"a": "abc');
  assert.match(err.message, /line 1, column 11: unterminated string/);
});

test('truncated JSON is reported at the end of the text', () => {
  const err = syntaxError('{\n  "servers": [\n');
  assert.match(err.message, /line 3, column 1/);
});

test('a byte-order mark does not count as a syntax error', () => {
  const err = syntaxError('\uFEFF{"servers": 1}');
  assert.match(err.message, /servers: expected array, got number 1/);
});

test('an unreadable file is a ConfigError naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-config-'));
  try {
    const missing = join(dir, 'missing.json');
    assert.throws(() => loadConfigFile(missing, { catalog }), (err: unknown) => err instanceof ConfigError && err.source === missing && /cannot read the file/.test(err.message));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"servers": [}');
    assert.throws(() => loadConfigFile(bad, { catalog }), (err: unknown) => err instanceof ConfigError && /line 1, column 14/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
