/**
 * `ringside start` on configs that used to pass validation and then kill a worker: each exits 2 with
 * `json.path: reason` before anything starts; `--check` validates without starting; `-c` on a FIFO
 * nobody writes to answers at once instead of blocking.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ringside-check-'));

function writeConfig(name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

function config(filter: unknown, cluster: Record<string, unknown> = {}): unknown {
  return {
    servers: [{ listeners: [{ name: 'edge', address: '127.0.0.1:0', filter_chains: [{ filters: [filter] }] }] }],
    cluster_manager: { clusters: [{ name: 'echo', hosts: [{ address: '127.0.0.1:9' }], ...cluster }] },
    ringside: { admin: { address: '127.0.0.1:0' } },
  };
}

function run(args: string[]) {
  return spawnSync(process.execPath, [main, 'start', ...args], { encoding: 'utf8', timeout: 15_000 });
}

test('values that used to kill a worker exit 2 with the JSON path, before any worker starts', () => {
  const cases: [string, unknown, RegExp][] = [
    ['unknown network filter', config({ type: 'tcp_proxyy', config: { cluster: 'echo' } }), /^servers\[0\]\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.type: unknown network filter "tcp_proxyy"/m],
    ['unregistered balancer', config({ type: 'tcp_proxy', config: { cluster: 'echo' } }, { lb_type: 'LB_PEAK_EWMA' }), /^cluster_manager\.clusters\[0\]\.lb_type: unknown load balancer "LB_PEAK_EWMA"/m],
    ['bad listener host', { ...(config({ type: 'tcp_proxy', config: { cluster: 'echo' } }) as object), servers: [{ listeners: [{ name: 'edge', address: '999.1.1.1:0', filter_chains: [{ filters: [{ type: 'tcp_proxy', config: { cluster: 'echo' } }] }] }] }] }, /^servers\[0\]\.listeners\[0\]\.address: "999\.1\.1\.1" is not an IPv4 address/m],
  ];
  for (const [name, cfg, line] of cases) {
    const r = run(['-c', writeConfig(`${name.replace(/ /g, '-')}.json`, cfg)]);
    assert.equal(r.status, 2, `${name}: exit ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, line, name);
    assert.doesNotMatch(r.stderr, /worker\/\d|\n\s+at /, `${name}: no worker started, no stack trace`);
    assert.equal(r.stdout, '');
  }
});

test('start --check validates without starting: 0 with "config OK", 2 with the issues', () => {
  const good = run(['--check', '-c', writeConfig('good.json', config({ type: 'tcp_proxy', config: { cluster: 'echo', idle_timeout: '1m30s' } }))]);
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /^config OK: .*good\.json\n$/);
  assert.doesNotMatch(good.stderr, /admin listening|accepting/);
  const bad = run(['--check', '-c', writeConfig('bad.json', config({ type: 'tcp_proxy', config: { cluster: 'nowhere' } }))]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /filters\[0\]\.config\.cluster: no cluster named "nowhere" \(known: echo\)/);
});

test('start --check prints its warnings on stderr even when default_log_path names a file, and says so', () => {
  const logFile = join(dir, 'check.log');
  const cfg = config({ type: 'tcp_proxy', config: { cluster: 'echo', clustr: 'typo' } }) as { servers: Record<string, unknown>[] };
  cfg.servers[0]!['default_log_path'] = logFile;
  const r = run(['--check', '-c', writeConfig('warned.json', cfg)]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^config OK: .*warned\.json \(1 warning\(s\) on stderr\)\n$/);
  assert.match(r.stderr, /^ringside: warning: servers\[0\]\.listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.config\.clustr: unknown key, ignored$/m);
  assert.equal(existsSync(logFile) ? readFileSync(logFile, 'utf8') : '', '', 'nothing of a check goes to the log file');
});

test('-c on a FIFO with no writer exits 2 at once instead of blocking', () => {
  const fifo = join(dir, 'config.fifo');
  execFileSync('mkfifo', [fifo]);
  const started = Date.now();
  const r = run(['--check', '-c', fifo]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /cannot read the file: nothing to read \(a FIFO with no writer\?\)/);
  assert.ok(Date.now() - started < 10_000);
});
