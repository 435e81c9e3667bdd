import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, GeeRpcError, GOB_CODEC, JSON_CODEC, type CodecType } from '../../src/geerpc/index.js';
import { fooServer, portOf, rawConnect, tempSocketPath, until } from './helpers.js';
import { args12, argsDef, header1, headerDef, reply3 } from '../protocol/gob/golden.js';

const transports = (): string[] => ['tcp@127.0.0.1:0', `unix@${tempSocketPath('foo.sock')}`, 'http@127.0.0.1:0'];

for (const codec of [GOB_CODEC, JSON_CODEC] as CodecType[]) {
  test(`Node client ↔ Node server over TCP, Unix and HTTP CONNECT (${codec})`, async () => {
    const server = fooServer();
    try {
      for (const addr of transports()) {
        const l = await server.listen(addr);
        const client = await Client.dial(l.addr, { codec });
        assert.equal(await client.call('Foo.Sum', { Num1: 1, Num2: 2 }), 3, l.addr);
        assert.equal(await client.call('Foo.Who', {}), 'foo');
        await client.close();
      }
    } finally {
      await server.close();
    }
  });
}

test('many concurrent calls on one client are told apart by Seq, whatever order they finish in', async () => {
  const server = fooServer();
  const l = await server.listen('tcp@127.0.0.1:0');
  const client = await Client.dial(l.addr);
  try {
    // Sleep waits Num1 ms: later calls finish first, so replies arrive out of order.
    const calls = Array.from({ length: 60 }, (_, i) => client.call('Foo.Sleep', { Num1: 60 - i, Num2: i * 1000 }));
    const replies = await Promise.all(calls);
    replies.forEach((r, i) => assert.equal(r, 60 - i + i * 1000));
    assert.equal(client.pendingCalls, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('server errors reach the call as Go words them; the connection stays usable', async () => {
  const server = fooServer();
  const l = await server.listen('tcp@127.0.0.1:0');
  const client = await Client.dial(l.addr);
  try {
    const cases: [string, string][] = [
      ['Foo.Fail', 'foo failed on purpose'],
      ['Bar.Sum', "rpc server: can't find service Bar"],
      ['Foo.Nope', "rpc server: can't find method Nope"],
      ['FooSum', 'rpc server: service/method request ill-formed: FooSum'],
    ];
    for (const [method, message] of cases) {
      await assert.rejects(client.call(method, { Num1: 1 }), (e: unknown) => e instanceof GeeRpcError && e.code === 'SERVER' && e.message === message);
    }
    assert.equal(await client.call('Foo.Sum', { Num1: 2, Num2: 2 }), 4);
  } finally {
    await client.close();
    await server.close();
  }
});

test('ErrShutdown: calls after close and a second close fail with "connection is shut down"; a lost server fails pending calls', async () => {
  const server = fooServer();
  const l = await server.listen('tcp@127.0.0.1:0');
  const client = await Client.dial(l.addr);
  const pending = client.call('Foo.Sleep', { Num1: 5000, Num2: 0 });
  assert.equal(client.isAvailable(), true);
  await client.close();
  await assert.rejects(pending, { code: 'SHUTDOWN', message: 'connection is shut down' });
  await assert.rejects(client.call('Foo.Sum', {}), { code: 'SHUTDOWN', message: 'connection is shut down' });
  await assert.rejects(client.close(), { code: 'SHUTDOWN' });
  assert.equal(client.isAvailable(), false);

  const other = await Client.dial(l.addr);
  const inflight = other.call('Foo.Sleep', { Num1: 5000, Num2: 0 });
  await server.close();
  await assert.rejects(inflight, { code: 'CONNECTION_LOST' });
  assert.equal(other.isAvailable(), false);
  await assert.rejects(other.call('Foo.Sum', {}), { code: 'SHUTDOWN' });
});

test('HTTP mode: the debug page lists services, methods and call counts; other methods on the RPC path get 405', async () => {
  const server = fooServer();
  const l = await server.listen('http@127.0.0.1:0');
  try {
    const client = await Client.dial(l.addr);
    await client.call('Foo.Sum', { Num1: 1, Num2: 1 });
    await client.call('Foo.Sum', { Num1: 1, Num2: 1 });
    await client.close();
    const base = `http://127.0.0.1:${portOf(l.addr)}`;
    const page = await (await fetch(`${base}/debug/geerpc`)).text();
    assert.match(page, /Service Foo/);
    assert.match(page, /Sum\(Args, \*int\) error<\/td>\n<td align=center>2<\/td>/);
    assert.match(page, /Sleep\(any, \*any\) error<\/td>\n<td align=center>0<\/td>/);
    const res = await fetch(`${base}/_geeprc_`);
    assert.equal(res.status, 405);
    assert.equal(await res.text(), '405 must CONNECT\n');
  } finally {
    await server.close();
  }
});

test("a Go client's exact bytes (bare-LF CONNECT, Option, golden gob Header/Args) get a Go server's exact reply bytes", async () => {
  const server = fooServer();
  const l = await server.listen('http@127.0.0.1:0');
  const { socket, received } = await rawConnect(portOf(l.addr));
  try {
    socket.write('CONNECT /_geeprc_ HTTP/1.0\n\n');
    await until(() => received().length > 0, 2000, 'the CONNECT answer');
    assert.equal(received().toString(), 'HTTP/1.0 200 Connected to Gee RPC\n\n');
    const option = '{"MagicNumber":3927900,"CodecType":"application/gob","ConnectTimeout":10000000000,"HandleTimeout":0}\n';
    // Header{"Foo.Sum", 1, ""} and Args{1, 2} as a fresh Go gob encoder writes them, and a Go
    // server's answer (test/protocol/gob/golden.ts derives each byte).
    socket.write(Buffer.concat([Buffer.from(option), headerDef, header1, argsDef, args12]));
    const expected = Buffer.concat([headerDef, header1, reply3]).toString('hex');
    await until(() => received().length >= 'HTTP/1.0 200 Connected to Gee RPC\n\n'.length + expected.length / 2, 2000, 'the reply');
    assert.equal(received().subarray('HTTP/1.0 200 Connected to Gee RPC\n\n'.length).toString('hex'), expected);
  } finally {
    socket.destroy();
    await server.close();
  }
});

test('the package exports geerpc as ringside/geerpc', async () => {
  const spec = 'ringside/geerpc';
  const mod = (await import(spec)) as Record<string, unknown>;
  for (const name of ['Server', 'Client', 'XClient', 'Registry', 'startHeartbeat', 'EtcdDiscovery', 'registerEtcd', 'SelectMode', 'gob']) {
    assert.ok(mod[name] !== undefined, name);
  }
});
