/**
 * geerpc discovery through a real etcd (Debian's etcd-server, installed by .ci/run), started here on
 * 127.0.0.1 with free ports and a temporary data dir.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdDiscovery, SelectMode, XClient, registerEtcd } from '../../src/geerpc/index.js';
import { counter } from '../../src/common/counters.js';
import { fooServer, until } from './helpers.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Etcd {
  url: string;
  child: ChildProcess;
  dir: string;
}

async function startEtcd(): Promise<Etcd> {
  if (spawnSync('etcd', ['--version']).status !== 0) throw new Error('etcd is not installed (apt-get install etcd-server; .ci/run does this)');
  const dir = mkdtempSync(join(tmpdir(), 'ringside-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const child = spawn('etcd', [
    '--name', 'geerpc-test', '--data-dir', dir,
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `geerpc-test=http://127.0.0.1:${peer}`,
    '--logger', 'zap', '--log-level', 'error',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`etcd exited: ${stderr}`);
    try {
      return (await fetch(`${url}/health`)).ok;
    } catch {
      return false;
    }
  }, 15_000, 'etcd to become healthy');
  return { url, child, dir };
}

let etcd: Etcd | undefined;
after(() => {
  etcd?.child.kill('SIGKILL');
  if (etcd !== undefined) rmSync(etcd.dir, { recursive: true, force: true });
});

test('etcd: leased registration is discovered by watch; a released lease drops the host within its TTL; etcd down keeps the last hosts', async () => {
  etcd = await startEtcd();
  const prefix = '/geerpc-test/foo/';
  const [a, b, c] = [fooServer('a'), fooServer('b'), fooServer('c')];
  const [la, lb, lc] = await Promise.all([a.listen('tcp@127.0.0.1:0'), b.listen('tcp@127.0.0.1:0'), c.listen('tcp@127.0.0.1:0')]);
  const ttlSeconds = 2;
  const regA = await registerEtcd(la.addr, { hosts: etcd.url, prefix, ttlSeconds });
  const regB = await registerEtcd(lb.addr, { hosts: etcd.url, prefix, ttlSeconds });
  const d = new EtcdDiscovery({ hosts: etcd.url, prefix });
  const xc = new XClient(d, SelectMode.RoundRobinSelect);
  try {
    assert.deepEqual(await d.getAll(), [la.addr, lb.addr].sort());
    const who = new Set([await xc.call('Foo.Who', {}), await xc.call('Foo.Who', {})]);
    assert.deepEqual([...who].sort(), ['a', 'b']);

    // A server registering later arrives through the watch.
    const regC = await registerEtcd(lc.addr, { hosts: etcd.url, prefix, ttlSeconds });
    await until(async () => (await d.getAll()).includes(lc.addr), 3000, 'c to be watched in');

    // b stops keeping its lease alive (as a crashed process would): etcd expires it within the TTL.
    regB.release();
    const gone = await until(async () => !(await d.getAll()).includes(lb.addr), ttlSeconds * 1000 + 2000, 'b to expire');
    assert.ok(gone <= ttlSeconds * 1000 + 1500, `b disappeared after ${gone} ms`);
    assert.deepEqual(await d.getAll(), [la.addr, lc.addr].sort());
    assert.ok(d.stats.events >= 2);

    // etcd goes away: the outage is noticed and counted, and calls keep going to the last known hosts.
    const outagesBefore = counter('geerpc.etcd.outages').value;
    etcd.child.kill('SIGKILL');
    await until(() => d.stats.outages >= 1, 10_000, 'the watch to report the outage');
    assert.equal(counter('geerpc.etcd.outages').value, outagesBefore + 1);
    assert.deepEqual(await d.getAll(), [la.addr, lc.addr].sort());
    const answers = new Set([await xc.call('Foo.Who', {}), await xc.call('Foo.Who', {})]);
    assert.deepEqual([...answers].sort(), ['a', 'c']);
    regA.release();
    regC.release();
  } finally {
    await xc.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});
