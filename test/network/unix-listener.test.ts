/**
 * Unix socket listeners: a stale socket file (its server died) is removed and bound; a path a live
 * server accepts on is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { UnixListener } from '../../src/network/listeners/unix-listener.js';
import { echoChain, settings } from './helpers.js';

async function echoOver(path: string, msg: string): Promise<string> {
  const s = net.connect({ path });
  await once(s, 'connect');
  s.write(msg);
  const [d] = (await once(s, 'data')) as [Buffer];
  s.destroy();
  return d.toString();
}

test('a stale socket file left by a killed process is removed and the listener serves', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-unix-'));
  const path = join(dir, 'stale.sock');
  try {
    // A process that binds the path and dies without closing leaves the file behind.
    const r = spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    assert.equal(r.signal, 'SIGKILL');
    assert.ok(lstatSync(path).isSocket(), 'the stale socket file exists');
    const l = new UnixListener({ ...settings('unix', [echoChain()]), path });
    await l.start();
    assert.equal(await echoOver(path, 'fresh'), 'fresh');
    await l.stopAccepting();
    assert.equal(existsSync(path), false, 'closing the listener removes its socket file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a path owned by a live server is refused with "address in use by a live server"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-unix-'));
  const path = join(dir, 'live.sock');
  const live = net.createServer((s) => s.on('error', () => {}).end('live'));
  await new Promise<void>((r) => live.listen(path, r));
  try {
    const l = new UnixListener({ ...settings('unix', [echoChain()]), path });
    await assert.rejects(l.start(), /address in use by a live server/);
    const s = net.connect({ path });
    const [d] = (await once(s, 'data')) as [Buffer];
    assert.equal(d.toString(), 'live', 'the live server still owns its path');
  } finally {
    live.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
