import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild } from '../supervisor/helpers.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;

function configWithLevel(level: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-log-')), 'sidecar.json');
  writeFileSync(
    file,
    JSON.stringify({
      servers: [
        {
          default_log_level: level,
          listeners: [{ name: 'edge', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'tcp_proxy', config: { cluster: 'echo' } }] }] }],
        },
      ],
      cluster_manager: { clusters: [{ name: 'echo', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [{ address: '127.0.0.1:9' }] }] },
      ringside: { admin: { address: '127.0.0.1:0' }, drain_timeout: 500 },
    }),
  );
  return file;
}

interface Line {
  level: number;
  time: string;
  thread: string;
  scope: string;
  msg: string;
}

async function runUntilReady(level: string, env: Record<string, string>): Promise<{ stderr: string; code: number | null }> {
  const child = startChild(main, ['start', '-c', configWithLevel(level), '--workers', '1'], env);
  try {
    await child.waitStdout(/^ringside ready:/, 20_000);
    // The worker's "accepting on" line is written before the ready line; the drain lines follow SIGTERM.
    child.proc.kill('SIGTERM');
    const { code } = await child.exited;
    return { stderr: child.stderr(), code };
  } finally {
    child.kill();
  }
}

test('logs are JSON lines on stderr naming thread and scope, at the level RINGSIDE_LOG sets over default_log_level', async () => {
  const { stderr, code } = await runUntilReady('WARN', { RINGSIDE_LOG: 'info', RINGSIDE_LOG_FORMAT: '' });
  assert.equal(code, 0);
  const lines = stderr.trim().split('\n').map((l) => JSON.parse(l) as Line);
  const admin = lines.find((l) => /^admin listening on 127\.0\.0\.1:\d+$/.test(l.msg));
  assert.ok(admin, stderr);
  assert.equal(admin.thread, 'main');
  assert.equal(admin.scope, 'supervisor');
  assert.equal(admin.level, 30);
  assert.ok(!Number.isNaN(Date.parse(admin.time)));
  const accepting = lines.find((l) => l.msg.startsWith('accepting on edge@'));
  assert.ok(accepting, stderr);
  assert.equal(accepting.thread, 'worker/0');
  assert.equal(accepting.scope, 'worker');
});

test("default_log_level decides the level when RINGSIDE_LOG is unset", async () => {
  const warn = await runUntilReady('WARN', { RINGSIDE_LOG: '' });
  assert.equal(warn.code, 0);
  assert.doesNotMatch(warn.stderr, /accepting on|admin listening|drain/, 'no info lines at WARN');
  const debug = await runUntilReady('DEBUG', { RINGSIDE_LOG: '' });
  const lines = debug.stderr.trim().split('\n').map((l) => JSON.parse(l) as Line);
  const bound = lines.find((l) => l.level === 20 && l.msg.startsWith('listener edge accepting on'));
  assert.ok(bound, debug.stderr);
  assert.equal(bound.thread, 'worker/0');
  assert.equal(bound.scope, 'network');
});

test('RINGSIDE_LOG_FORMAT=pretty prints readable lines through pino-pretty', async () => {
  const { stderr } = await runUntilReady('INFO', { RINGSIDE_LOG: 'info', RINGSIDE_LOG_FORMAT: 'pretty' });
  assert.match(stderr, /INFO.*\[worker\/0\] worker: accepting on edge@127\.0\.0\.1:\d+/);
  assert.doesNotMatch(stderr, /^\{"level"/m);
});

test('a RINGSIDE_LOG that is no level exits 2 naming the accepted values, before anything starts', async () => {
  const child = startChild(main, ['start', '-c', configWithLevel('INFO'), '--workers', '1'], { RINGSIDE_LOG: 'loud' });
  const { code } = await child.exited;
  assert.equal(code, 2);
  assert.match(child.stderr(), /RINGSIDE_LOG: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"/);
  assert.equal(child.stdout(), '');
});
