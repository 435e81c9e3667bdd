import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { GeeRegistryDiscovery, MultiServersDiscovery, Registry, SelectMode, XClient, startHeartbeat } from '../../src/geerpc/index.js';
import { fooServer } from './helpers.js';

test('XClient round robin alternates servers; random picks among them; no servers is an error', async () => {
  const a = fooServer('a');
  const b = fooServer('b');
  const la = await a.listen('tcp@127.0.0.1:0');
  const lb = await b.listen('http@127.0.0.1:0');
  const xc = new XClient(new MultiServersDiscovery([la.addr, lb.addr]), SelectMode.RoundRobinSelect);
  const rnd = new XClient(new MultiServersDiscovery([la.addr, lb.addr]), SelectMode.RandomSelect);
  try {
    const who = [];
    for (let i = 0; i < 4; i++) who.push(await xc.call('Foo.Who', {}));
    assert.deepEqual(who, ['a', 'b', 'a', 'b']);
    const seen = new Set<unknown>();
    for (let i = 0; i < 40; i++) seen.add(await rnd.call('Foo.Who', {}));
    assert.deepEqual([...seen].sort(), ['a', 'b']);
    await assert.rejects(new XClient(new MultiServersDiscovery([]), SelectMode.RandomSelect).call('Foo.Sum', {}), { code: 'NO_SERVERS', message: 'rpc discovery: no available servers' });
  } finally {
    await xc.close();
    await rnd.close();
    await a.close();
    await b.close();
  }
});

test('broadcast: every server answers; the first error cancels the calls still running', async () => {
  const servers = [fooServer('a'), fooServer('b'), fooServer('c')];
  const addrs = await Promise.all(servers.map(async (s) => (await s.listen('tcp@127.0.0.1:0')).addr));
  const xc = new XClient(new MultiServersDiscovery(addrs), SelectMode.RandomSelect);
  try {
    assert.equal(await xc.broadcast('Foo.Sum', { Num1: 2, Num2: 3 }), 5);
    // b fails at once while a and c would sleep 3 s: the broadcast ends with b's error, not 3 s later.
    const start = Date.now();
    await assert.rejects(xc.broadcast('Foo.Maybe', { Fail: 'b', Ms: 3000 }), { code: 'SERVER', message: 'b failed' });
    assert.ok(Date.now() - start < 1500, `broadcast waited ${Date.now() - start} ms`);
    // A broadcast-wide deadline cancels every call.
    await assert.rejects(xc.broadcast('Foo.Sleep', { Num1: 3000, Num2: 0 }, { timeoutMs: 100 }), { code: 'DEADLINE_EXCEEDED' });
    await assert.rejects(xc.broadcast('Foo.Fail', {}), { code: 'SERVER', message: 'foo failed on purpose' });
  } finally {
    await xc.close();
    await Promise.all(servers.map((s) => s.close()));
  }
});

test('the registry drops a server whose heartbeat is older than its timeout and lists the rest sorted', () => {
  let now = 1_000_000;
  const reg = new Registry({ timeoutMs: 5 * 60_000, now: () => now });
  reg.putServer('tcp@10.0.0.2:1');
  reg.putServer('tcp@10.0.0.1:1');
  now += 4 * 60_000;
  reg.putServer('tcp@10.0.0.2:1'); // heartbeat
  assert.deepEqual(reg.aliveServers(), ['tcp@10.0.0.1:1', 'tcp@10.0.0.2:1']);
  now += 60_000 + 1;
  assert.deepEqual(reg.aliveServers(), ['tcp@10.0.0.2:1']);
  now += 5 * 60_000;
  assert.deepEqual(reg.aliveServers(), []);
});

test('heartbeats over HTTP keep a server listed until they stop; GeeRegistryDiscovery refreshes after refreshMs', async () => {
  const reg = new Registry({ timeoutMs: 400 });
  const { url, close } = await reg.listen('127.0.0.1', 0);
  const server = fooServer('hb');
  const l = await server.listen('tcp@127.0.0.1:0');
  const hb = startHeartbeat(url, l.addr, 100);
  const d = new GeeRegistryDiscovery(url, 50);
  const xc = new XClient(d, SelectMode.RandomSelect);
  try {
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(await d.getAll(), [l.addr]);
    assert.equal(await xc.call('Foo.Sum', { Num1: 1, Num2: 2 }), 3);
    hb.stop();
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(await d.getAll(), []);
    assert.ok(hb.stats.sent >= 2);
  } finally {
    hb.stop();
    await xc.close();
    await server.close();
    await close();
  }
});

async function spawnReady(args: string[]): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const rl = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { child, line };
}

test('`ringside registry` and examples/geerpc-foo.ts: the example heartbeats, a registry-discovered XClient calls Foo.Sum', async () => {
  const reg = await spawnReady(['dist/src/cli/main.js', 'registry', '--listen', '127.0.0.1:0']);
  let foo: ChildProcess | undefined;
  try {
    const url = /listening on (\S+)$/.exec(reg.line)![1]!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/_geerpc_\/registry$/);
    const started = await spawnReady(['dist/examples/geerpc-foo.js', '--listen', 'http@127.0.0.1:0', '--registry', url]);
    foo = started.child;
    const addr = /on (http@\S+)/.exec(started.line)![1]!;
    const d = new GeeRegistryDiscovery(url, 0);
    const deadline = Date.now() + 5000;
    while ((await d.getAll()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await d.getAll(), [addr]);
    const xc = new XClient(d, SelectMode.RoundRobinSelect);
    assert.equal(await xc.call('Foo.Sum', { Num1: 1, Num2: 2 }), 3);
    assert.equal(await xc.call('Foo.Sleep', { Num1: 0, Num2: 7 }), 7);
    await xc.close();
  } finally {
    foo?.kill('SIGTERM');
    reg.child.kill('SIGTERM');
  }
});

test('`ringside registry` refuses a bad --listen with exit 2', async () => {
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'registry', '--listen', 'nope'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  assert.equal(code, 2);
  assert.match(err, /--listen needs HOST:PORT/);
});
