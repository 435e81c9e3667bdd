/**
 * The start-up config check (src/supervisor/config-check.ts): a prewarmed data-plane thread runs the
 * loader and answers with the normalized config or the issues, which the main thread turns into
 * the same ConfigError its own loader throws; with no prewarmed thread the main thread loads it.
 * The thread that answered stays in the pool for the first slot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkStartConfig, loadOnMainThread } from '../../src/supervisor/config-check.js';
import { disposePrewarmed, prewarmDataplane, takePrewarmed, DATAPLANE_ENTRY } from '../../src/supervisor/prewarm.js';
import { workerResourceLimits } from '../../src/supervisor/heap-limits.js';
import { ConfigError } from '../../src/config/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ringside-config-check-'));

function file(name: string, config: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Valid for the schema; only the router builder (the dry build) refuses its domain. */
const unbuildable = file('unbuildable.json', {
  servers: [
    {
      routers: [{ router_config_name: 'r1', virtual_hosts: [{ name: 'a', domains: ['a.*.com'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'c1' } }] }] }],
      listeners: [{ name: 'l1', address: '127.0.0.1:0', filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', router_config_name: 'r1' } }] }] }],
    },
  ],
  cluster_manager: { clusters: [{ name: 'c1', lb_type: 'LB_RANDOM', hosts: [{ address: '127.0.0.1:9' }] }] },
});

async function issuesOf(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(
    () => assert.fail('expected a ConfigError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError, String(err));
  return err;
}

test('a prewarmed thread checks the config: the same issues as the main thread, the default config loads, the thread stays warm', async () => {
  const env = { DAPR_HTTP_PORT: '3999' };
  const onMain = await issuesOf(loadOnMainThread(unbuildable, env));
  prewarmDataplane(1);
  try {
    const fromThread = await issuesOf(checkStartConfig(unbuildable, env));
    assert.equal(fromThread.source, unbuildable);
    assert.deepEqual(fromThread.issues, onMain.issues);
    assert.match(fromThread.issues[0]!.path, /^servers\[0\]\.routers\[0\]\.virtual_hosts\[0\]\.domains\[0\]$/);
    const loaded = await checkStartConfig(undefined, env);
    assert.equal(loaded.config.ringside.dapr.http_port, 3999, 'the environment sent along was the one read');
    assert.deepEqual(loaded.config, (await loadOnMainThread(undefined, env)).config);
    const warm = takePrewarmed(DATAPLANE_ENTRY, workerResourceLimits());
    assert.ok(warm !== undefined, 'the thread that answered is still there for a slot');
    await warm.terminate();
  } finally {
    disposePrewarmed();
  }
});

test('with no prewarmed thread the main thread checks the config itself', async () => {
  const err = await issuesOf(checkStartConfig(unbuildable, {}));
  assert.match(err.issues.map((i) => `${i.path}: ${i.message}`).join('\n'), /domains\[0\]: .*wildcard may only lead or end/);
});
