/**
 * Wire compatibility with an independent peer: a Python client and server written from the wire
 * format only (examples/drpc-peer.py) talk to Ringside's server and client, with messages of one
 * chunk and of several (300 KiB) both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { ClientConnection, DomainSocketServer, Module, Status } from '../../src/drpc/index.js';
import { script, tempDir } from './helpers.js';

const run = promisify(execFile);

interface PyResult {
  sequence: number;
  status: number;
  body_len: number;
  body_hex: string;
  body_matches: boolean;
}

test('a Python SEQPACKET client calls Ringside\'s DomainSocketServer', async (t) => {
  const path = join(tempDir(t), 'ringside.sock');
  const server = new DomainSocketServer(path);
  server.registerModule(new Module(7).method(701, (b) => b));
  server.start();
  t.after(() => server.shutdown());

  const small = JSON.parse((await run('python3', [script, 'client', path, '7', '701', Buffer.from('hello').toString('hex')])).stdout) as PyResult[];
  assert.deepEqual(small.map((r) => [r.sequence, r.status, r.body_matches]), [[1, Status.SUCCESS, true], [2, Status.SUCCESS, true]]);
  const big = JSON.parse((await run('python3', [script, 'client', path, '7', '701', `@${300 * 1024}`])).stdout) as PyResult[];
  assert.deepEqual(big.map((r) => [r.status, r.body_len, r.body_matches]), [[Status.SUCCESS, 300 * 1024, true], [Status.SUCCESS, 300 * 1024, true]]);
  const unknown = JSON.parse((await run('python3', [script, 'client', path, '9', '901', ''])).stdout) as PyResult[];
  assert.equal(unknown[0]!.status, Status.UNKNOWN_MODULE);
});

test('Ringside\'s ClientConnection calls a Python SEQPACKET server', async (t) => {
  const path = join(tempDir(t), 'python.sock');
  const py = spawn('python3', [script, 'server', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => py.kill());
  await once(py.stdout, 'data');
  const client = new ClientConnection(path);
  await client.connect();
  t.after(() => client.close());
  const r = await client.sendMsg({ module: 7, method: 701, body: Buffer.from('abc') });
  assert.equal(r.status, Status.SUCCESS);
  assert.equal(r.body.toString(), 'cba');
  assert.equal(r.sequence, 1);
  const body = Buffer.alloc(310 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = i % 251;
  const big = await client.sendMsg({ module: 7, method: 701, body });
  assert.equal(big.sequence, 2);
  assert.ok(big.body.equals(Buffer.from(body).reverse()), '310 KiB each way in chunks');
  assert.equal((await client.sendMsg({ module: 7, method: 799 })).status, Status.UNKNOWN_METHOD);
  assert.equal((await client.sendMsg({ module: 5, method: 501 })).status, Status.UNKNOWN_MODULE);
});
