/**
 * `ringside start`'s main thread does not load the config loader (zod, every extension's schema)
 * or the data plane: a prewarmed data-plane thread checks the config for it. The module graph of
 * src/cli/start.js, recorded by a module hook in a child process, holds the supervisor and none of
 * those.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const start = new URL('../../src/cli/start.js', import.meta.url).href;

const hooks = `export async function load(url, context, next) { process.stderr.write('LOADED ' + url + '\\n'); return next(url, context); }`;
const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));`;

test('the main thread of ringside start imports the supervisor, not zod, the config schema or the data plane', () => {
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', `await import(${JSON.stringify(start)});`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const loaded = [...r.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1]!);
  assert.ok(loaded.some((u) => u.endsWith('/src/supervisor/supervisor.js')), `the hook saw the supervisor load:\n${loaded.join('\n')}`);
  const unwanted = loaded.filter((u) => /\/node_modules\/zod\/|\/src\/config\/(load|schema|filters)\.js$|\/src\/(extensions|routing|assembly)\.js$|\/src\/(proxy|protocol|stream|router|upstream|network)\//.test(u));
  assert.deepEqual(unwanted, []);
});
