/** Shared by the config tests: fixture lookup and a ConfigError matcher that pins path and reason. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import type { ConfigIssue } from '../../src/config/types.js';
import { configCatalog } from '../../src/extensions.js';

const catalog = configCatalog();

/** Finds test/fixtures/config/NAME from the compiled test's folder upwards, else from the cwd. */
export function fixture(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'fixtures', 'config', name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return resolve('test', 'fixtures', 'config', name);
    dir = parent;
  }
}

/** Runs fn, expects a ConfigError, and returns its issues. */
export function configIssues(fn: () => unknown): readonly ConfigIssue[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('expected a ConfigError, but the config loaded');
}

/** Asserts an issue at exactly `path` whose message matches. */
export function assertIssue(issues: readonly ConfigIssue[], path: string, message: RegExp): void {
  const at = issues.filter((i) => i.path === path);
  assert.ok(at.length > 0, `no issue at ${path}; got:\n${issues.map((i) => `${i.path}: ${i.message}`).join('\n')}`);
  assert.ok(
    at.some((i) => message.test(i.message)),
    `issue at ${path} does not match ${String(message)}: ${at.map((i) => i.message).join(' | ')}`,
  );
}

/** A small valid config that tests copy and break in one place. */
export function baseConfig() {
  return {
    servers: [
      {
        routers: [
          {
            router_config_name: 'r1',
            virtual_hosts: [{ name: 'vh', domains: ['*'], routers: [{ match: { prefix: '/' }, route: { cluster_name: 'c1' } }] }],
          },
        ],
        listeners: [
          {
            name: 'l1',
            address: '127.0.0.1:0',
            filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Http1', router_config_name: 'r1' } }] }],
          },
          {
            name: 'l2',
            address: '127.0.0.1:0',
            filter_chains: [{ filters: [{ type: 'tcp_proxy', config: { cluster: 'c1' } }] }],
          },
        ],
      },
    ],
    cluster_manager: { clusters: [{ name: 'c1', lb_type: 'LB_RANDOM', hosts: [{ address: '127.0.0.1:9000' }] }] },
  };
}

/** Parses with a fixed environment so host variables never change a test's outcome. */
export function parse(json: unknown, env: Record<string, string> = {}) {
  return parseConfig(json, 'test.json', { env, cores: 4, catalog });
}
