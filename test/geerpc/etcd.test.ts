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
import { Client, EtcdDiscovery, SelectMode, XClient, registerEtcd } from '../../src/geerpc/index.js';
import { startDataplane } from '../proxy/harness.js';
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

/** A geerpc proxy whose cluster `foo` is the GEERPC_ETCD prefix. */
function proxyConfig(endpoint: string, prefix: string) {
  return {
    servers: [
      {
        routers: [{ router_config_name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routers: [{ match: { headers: [{ name: 'service', value: 'Foo' }] }, route: { cluster_name: 'foo' } }] }] }],
        listeners: [{ name: 'gee', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'geerpc', router_config_name: 'r' } }] }] }],
      },
    ],
    cluster_manager: { clusters: [{ name: 'foo', type: 'GEERPC_ETCD', lb_type: 'LB_ROUNDROBIN', geerpc_discovery: { etcd_endpoints: [endpoint], etcd_prefix: prefix } }] },
  };
}

/** Which servers answer Foo.Who through the proxy, over n calls. */
async function whoAnswers(c: Client, n: number): Promise<string[]> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add((await c.call('Foo.Who', {})) as string);
  return [...seen].sort();
}

test('etcd: leased registration is discovered by watch (by an XClient and by a GEERPC_ETCD cluster); a released lease drops the host within its TTL; etcd down keeps the last hosts', async () => {
  etcd = await startEtcd();
  const prefix = '/geerpc-test/foo/';
  const [a, b, c] = [fooServer('a'), fooServer('b'), fooServer('c')];
  const [la, lb, lc] = await Promise.all([a.listen('tcp@127.0.0.1:0'), b.listen('tcp@127.0.0.1:0'), c.listen('tcp@127.0.0.1:0')]);
  const ttlSeconds = 2;
  const regA = await registerEtcd(la.addr, { hosts: etcd.url, prefix, ttlSeconds });
  const regB = await registerEtcd(lb.addr, { hosts: etcd.url, prefix, ttlSeconds });
  const d = new EtcdDiscovery({ hosts: etcd.url, prefix });
  const xc = new XClient(d, SelectMode.RoundRobinSelect);
  const dp = await startDataplane(proxyConfig(etcd.url, prefix));
  const viaProxy = await Client.dial(`tcp@${dp.addresses.get('gee')!}`);
  try {
    assert.deepEqual(await d.getAll(), [la.addr, lb.addr].sort());
    assert.deepEqual(await whoAnswers(viaProxy, 4), ['a', 'b']);
    const who = new Set([await xc.call('Foo.Who', {}), await xc.call('Foo.Who', {})]);
    assert.deepEqual([...who].sort(), ['a', 'b']);

    // A server registering later arrives through the watch.
    const regC = await registerEtcd(lc.addr, { hosts: etcd.url, prefix, ttlSeconds });
    await until(async () => (await d.getAll()).includes(lc.addr), 3000, 'c to be watched in');
    await until(async () => (await whoAnswers(viaProxy, 6)).includes('c'), 3000, 'c to join the cluster');

    // b stops keeping its lease alive (as a crashed process would): etcd expires it within the TTL.
    regB.release();
    const gone = await until(async () => !(await d.getAll()).includes(lb.addr), ttlSeconds * 1000 + 2000, 'b to expire');
    assert.ok(gone <= ttlSeconds * 1000 + 1500, `b disappeared after ${gone} ms`);
    assert.deepEqual(await d.getAll(), [la.addr, lc.addr].sort());
    assert.ok(d.stats.events >= 2);
    await until(async () => (await whoAnswers(viaProxy, 6)).join() === 'a,c', 2000, 'b to leave the cluster');

    // etcd goes away: the outage is noticed and counted, and calls keep going to the last known hosts.
    const outagesBefore = counter('geerpc.etcd.outages').value;
    const clusterOutages = counter('upstream.geerpc_discovery.outages').value;
    etcd.child.kill('SIGKILL');
    await until(() => d.stats.outages >= 1, 10_000, 'the watch to report the outage');
    await until(() => counter('upstream.geerpc_discovery.outages').value === clusterOutages + 1, 10_000, 'the cluster to count the outage');
    // Two watchers (the XClient's discovery and the cluster's) each saw etcd go.
    assert.equal(counter('geerpc.etcd.outages').value, outagesBefore + 2);
    assert.deepEqual(await whoAnswers(viaProxy, 4), ['a', 'c']);
    assert.deepEqual(await d.getAll(), [la.addr, lc.addr].sort());
    const answers = new Set([await xc.call('Foo.Who', {}), await xc.call('Foo.Who', {})]);
    assert.deepEqual([...answers].sort(), ['a', 'c']);
    regA.release();
    regC.release();
  } finally {
    await viaProxy.close().catch(() => {});
    await dp.close();
    await xc.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});
