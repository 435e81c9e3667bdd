/**
 * DAOS's rule for a socket path that already exists: dial it first. Answered → refuse to start
 * ("socket file in use"); ECONNREFUSED (left by a dead process, or not a socket) → unlink and listen;
 * ENOENT → listen. Shutdown removes the file and releases the poll thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, writeFileSync } from 'node:fs';
import { ClientConnection, DomainSocketServer, Module, SocketFileInUseError } from '../../src/drpc/index.js';
import { threadReactor } from '../../src/drpc/reactor.js';
import { tempDir } from './helpers.js';

function server(path: string): DomainSocketServer {
  return new DomainSocketServer(path).registerModule(new Module(1).method(101, (b) => b));
}

test('a live server on the path: the second one refuses to start', async (t) => {
  const path = join(tempDir(t), 's.sock');
  const first = server(path);
  first.start();
  t.after(() => first.shutdown());
  assert.throws(() => server(path).start(), (e: Error) => e instanceof SocketFileInUseError && /socket file in use/.test(e.message));
  const c = new ClientConnection(path);
  await c.connect();
  assert.equal((await c.sendMsg({ module: 1, method: 101, body: Buffer.from('first') })).body.toString(), 'first', 'the first server still serves');
  c.close();
});

test('a stale socket file left by a killed process is unlinked and the path served', async (t) => {
  const path = join(tempDir(t), 's.sock');
  const r = spawnSync('python3', ['-c', `import socket,os,signal; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(${JSON.stringify(path)}); s.listen(1); os.kill(os.getpid(), signal.SIGKILL)`]);
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(lstatSync(path).isSocket(), 'the stale socket file exists');
  const s = server(path);
  s.start();
  t.after(() => s.shutdown());
  const c = new ClientConnection(path);
  await c.connect();
  assert.equal((await c.sendMsg({ module: 1, method: 101, body: Buffer.from('fresh') })).body.toString(), 'fresh');
  c.close();
});

test('a regular file on the path is replaced, as DAOS does (dialing it is refused)', async (t) => {
  const path = join(tempDir(t), 's.sock');
  writeFileSync(path, 'not a socket');
  const s = server(path);
  s.start();
  t.after(() => s.shutdown());
  assert.ok(lstatSync(path).isSocket());
});

test('no file: listen; shutdown removes the file and lets the poll thread go', async (t) => {
  const path = join(tempDir(t), 's.sock');
  const s = server(path);
  s.start();
  assert.ok(existsSync(path));
  const c = new ClientConnection(path);
  await c.connect();
  await s.shutdown();
  assert.equal(existsSync(path), false);
  await assert.rejects(c.sendMsg({ module: 1, method: 101 }), /closed|EPIPE|ECONNRESET/);
  assert.equal(threadReactor().size, 0, 'no fd is left in the reactor');
  await threadReactor().whenIdle();
  await assert.rejects(new ClientConnection(path).connect(), (e: Error & { code?: string }) => e.code === 'ENOENT');
});
