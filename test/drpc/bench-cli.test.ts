/**
 * `ringside bench -p drpc` drives a real DomainSocketServer and reports what it measured; dRPC's
 * one-call-per-connection rule and an unreachable socket are clear errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DomainSocketServer, Module, DrpcFailure, Status } from '../../src/drpc/index.js';
import { tempDir } from './helpers.js';

const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
const run = promisify(execFile);

test('ringside bench -p drpc reports calls and counts non-SUCCESS statuses as errors', async (t) => {
  const path = join(tempDir(t), 'bench.sock');
  let calls = 0;
  const server = new DomainSocketServer(path).registerModule(
    new Module(7)
      .method(701, (b) => {
        calls++;
        return b;
      })
      .method(702, () => {
        throw new DrpcFailure(Status.FAILURE);
      }),
  );
  server.start();
  t.after(() => server.shutdown());
  const { stdout } = await run(process.execPath, [main, 'bench', '-p', 'drpc', '--call', '7/701', '--body', 'ping', '-c', '2', '-n', '200', '-t', '1', '--json', `drpc:${path}`]);
  const r = JSON.parse(stdout) as { requests: number; errors: number };
  assert.equal(r.requests, 200);
  assert.equal(r.errors, 0);
  assert.ok(calls >= 200, `the server saw the calls (${calls})`);
  const failing = await run(process.execPath, [main, 'bench', '-p', 'drpc', '--call', '7/702', '-c', '1', '-n', '20', '-t', '1', '--json', `drpc:${path}`]).catch((e: { stdout: string; code: number }) => e);
  const f = JSON.parse(failing.stdout) as { errors: number; errors_by_status: Record<string, number> };
  assert.equal(f.errors_by_status['FAILURE'], 20);
  await assert.rejects(run(process.execPath, [main, 'bench', '-p', 'drpc', '--concurrency', '2', `drpc:${path}`]), (e: { code: number; stderr: string }) => e.code === 2 && /synchronous/.test(e.stderr));
  await assert.rejects(run(process.execPath, [main, 'bench', '-p', 'drpc', '-n', '1', `drpc:${path}.missing`]), (e: { code: number; stderr: string }) => e.code === 1 && /ENOENT/.test(e.stderr));
});
