import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild } from '../supervisor/helpers.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;

function configWithLevel(level: string, logPath?: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ringside-log-')), 'sidecar.json');
  writeFileSync(
    file,
    JSON.stringify({
      servers: [
        {
          default_log_level: level,
          ...(logPath !== undefined ? { default_log_path: logPath } : {}),
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

async function runUntilReady(level: string, env: Record<string, string>, logPath?: string): Promise<{ stderr: string; code: number | null }> {
  const child = startChild(main, ['start', '-c', configWithLevel(level, logPath), '--workers', '1'], env);
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

test('default_log_path sends every thread\'s lines to that file (appended), none to stderr; an unopenable path exits 2 with it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-logfile-'));
  const file = join(dir, 'logs', 'default.log');
  writeFileSync(join(dir, 'marker'), '');
  const { stderr, code } = await runUntilReady('INFO', { RINGSIDE_LOG: '', RINGSIDE_LOG_FORMAT: '' }, file);
  assert.equal(code, 0);
  assert.doesNotMatch(stderr, /accepting on|admin listening/, 'nothing on stderr');
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
  assert.ok(lines.some((l) => l.thread === 'main' && /^admin listening on/.test(l.msg)), 'the main thread wrote to the file');
  assert.ok(lines.some((l) => l.thread === 'worker/0' && l.msg.startsWith('accepting on edge@')), 'the worker wrote to the file');
  const bad = startChild(main, ['start', '--check', '-c', configWithLevel('INFO', join(dir, 'marker', 'x.log'))], { RINGSIDE_LOG: '' });
  const { code: badCode } = await bad.exited;
  assert.equal(badCode, 2);
  assert.match(bad.stderr(), /servers\[0\]\.default_log_path: cannot open ".*marker\/x\.log"/);
});
