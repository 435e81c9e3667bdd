/**
 * geerpc through Ringside's `proxy` filter (downstream and upstream geerpc), on a data plane built in
 * this thread with real sockets: Node geerpc clients → the proxy → two Node geerpc servers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startDataplane } from '../proxy/harness.js';
import { Client, Server, gob } from '../../src/geerpc/index.js';
import { fooServer, rawConnect, portOf, until } from './helpers.js';

/** A geerpc server on its own net.Server, so the test sees how many connections reach it. */
async function countedServer(server: Server) {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const tcp = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    server.serveConn(s);
  });
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  const address = `127.0.0.1:${(tcp.address() as net.AddressInfo).port}`;
  return {
    address,
    accepted: () => accepted,
    /** Cuts every connection to it, as a crashed server would. */
    kill: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => tcp.close(r));
    },
  };
}

function config(foo: string[], extra: { hang?: string } = {}) {
  const hosts = (list: string[]) => list.map((address) => ({ address }));
  return {
    servers: [
      {
        routers: [
          {
            router_config_name: 'r',
            virtual_hosts: [
              {
                name: 'all',
                domains: ['*'],
                routers: [
                  { match: { headers: [{ name: 'service', value: 'Foo' }, { name: 'method', value: 'Sleep' }] }, route: { cluster_name: 'foo', timeout: '300ms' } },
                  { match: { headers: [{ name: 'service', value: 'Foo' }] }, route: { cluster_name: 'foo' } },
                  { match: { headers: [{ name: 'service', value: 'Hang' }] }, route: { cluster_name: 'hang' } },
                  { match: { headers: [{ name: 'service', value: 'Nowhere' }] }, route: { cluster_name: 'empty' } },
                ],
              },
            ],
          },
        ],
        listeners: [
          { name: 'gee', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'geerpc', upstream_protocol: 'geerpc', router_config_name: 'r' } }] }] },
          { name: 'auto', address: '127.0.0.1:0', bind_port: true, filter_chains: [{ filters: [{ type: 'proxy', config: { downstream_protocol: 'Auto', router_config_name: 'r' } }] }] },
        ],
      },
    ],
    cluster_manager: {
      clusters: [
        { name: 'foo', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: hosts(foo) },
        { name: 'hang', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: hosts(extra.hang === undefined ? [] : [extra.hang]) },
        { name: 'empty', type: 'SIMPLE', lb_type: 'LB_ROUNDROBIN', hosts: [] },
      ],
    },
  };
}

/** A service whose calls never answer (until its connections are cut). */
class Hang {
  Forever(): Promise<number> {
    return new Promise(() => {});
  }
}

test('calls are routed by service and method, many at once on one client, and many clients share the upstream connections', async (t) => {
  const a = await countedServer(fooServer('a'));
  const b = await countedServer(fooServer('b'));
  t.after(a.close);
  t.after(b.close);
  const dp = await startDataplane(config([a.address, b.address]));
  t.after(() => dp.close());
  const addr = `tcp@${dp.addresses.get('gee')!}`;

  const one = await Client.dial(addr);
  t.after(() => one.close().catch(() => {}));
  // Concurrency on one client: 100 calls in flight, each answered under its own Seq.
  const sums = await Promise.all(Array.from({ length: 100 }, (_, i) => one.call('Foo.Sum', { Num1: i, Num2: 1000 })));
  assert.deepEqual(sums, Array.from({ length: 100 }, (_, i) => i + 1000));
  // Round robin over the two servers.
  const who = await Promise.all(Array.from({ length: 4 }, () => one.call('Foo.Who', { Num1: 0 })));
  assert.deepEqual([...who].sort(), ['a', 'a', 'b', 'b']);

  // Many clients, each with its own gob stream (its own type ids), over the same upstream connections.
  const clients = await Promise.all(Array.from({ length: 8 }, () => Client.dial(addr)));
  t.after(() => Promise.all(clients.map((c) => c.close().catch(() => {}))));
  const results = await Promise.all(clients.flatMap((c, i) => Array.from({ length: 10 }, (_, j) => c.call('Foo.Sum', { Num1: i, Num2: j }))));
  assert.deepEqual(results, clients.flatMap((_, i) => Array.from({ length: 10 }, (_, j) => i + j)));
  assert.equal(a.accepted(), 1, 'one upstream connection per host for 9 clients');
  assert.equal(b.accepted(), 1);

  // Auto detects geerpc by its Option.
  const auto = await Client.dial(`tcp@${dp.addresses.get('auto')!}`);
  t.after(() => auto.close().catch(() => {}));
  assert.equal(await auto.call('Foo.Sum', { Num1: 40, Num2: 2 }), 42);
  assert.equal(a.accepted() + b.accepted(), 2, "the worker's listeners share its upstream pools");

  // A service method the server does not have: its own error, relayed.
  await assert.rejects(one.call('Foo.Missing', { Num1: 1 }), /rpc server: can't find method Missing|can't find/);
});

test('bodies of any type are relayed: the server decodes them with the definitions the proxy re-sends on its stream', async (t) => {
  const server = new Server();
  server.register({ Echo: (v: unknown) => v, Len: (v: { Items: unknown[] }) => v.Items.length }, { name: 'Foo' });
  const s = await countedServer(server);
  t.after(s.close);
  const dp = await startDataplane(config([s.address]));
  t.after(() => dp.close());
  const c = await Client.dial(`tcp@${dp.addresses.get('gee')!}`);
  t.after(() => c.close().catch(() => {}));
  const value = { Name: 'x', Items: [{ K: 'a', V: 1.5 }, { K: 'b', V: -2 }], Tags: new Map([['t', 7]]), Raw: Buffer.from([1, 2, 3]), Ok: true };
  const back = (await c.call('Foo.Echo', value)) as Record<string, unknown>;
  assert.equal(back.Name, 'x');
  assert.deepEqual(back.Items, [{ K: 'a', V: 1.5 }, { K: 'b', V: -2 }]);
  assert.deepEqual(back.Tags, new Map([['t', 7]]));
  assert.deepEqual(back.Raw, Buffer.from([1, 2, 3]));
  assert.equal(back.Ok, true);
  // An unsigned hint and a second use of the same type: defined once per stream, both relayed.
  assert.equal(await c.call('Foo.Len', { Items: [1, 2, 3] }, { argsType: gob.struct('L', { Items: gob.slice(gob.uint) }) }), 3);
  assert.equal(await c.call('Foo.Len', { Items: [4] }, { argsType: gob.struct('L', { Items: gob.slice(gob.uint) }) }), 1);
});

test("the proxy's own errors come back in geerpc's form: no route, no healthy host, route timeout, the caller's HandleTimeout", async (t) => {
  const a = await countedServer(fooServer('a'));
  t.after(a.close);
  const dp = await startDataplane(config([a.address]));
  t.after(() => dp.close());
  const addr = `tcp@${dp.addresses.get('gee')!}`;
  const c = await Client.dial(addr);
  t.after(() => c.close().catch(() => {}));
  await assert.rejects(c.call('Bar.Sum', { Num1: 1 }), /^GeeRpcError: ringside: NO_ROUTE: /);
  await assert.rejects(c.call('Nowhere.Sum', { Num1: 1 }), /ringside: NO_HEALTHY_HOST: /);
  // Route timeout 300ms on Foo.Sleep; the server sleeps Num1 ms.
  const started = Date.now();
  await assert.rejects(c.call('Foo.Sleep', { Num1: 2000, Num2: 0 }), /rpc server: request handle timeout: /);
  assert.ok(Date.now() - started < 1500);
  // The client's Option HandleTimeout bounds each call through the proxy too.
  const short = await Client.dial(addr, { handleTimeoutMs: 100 });
  t.after(() => short.close().catch(() => {}));
  await assert.rejects(short.call('Foo.Sleep', { Num1: 250, Num2: 0 }), /rpc server: request handle timeout: /);
  // The connection carries on after errors.
  assert.equal(await c.call('Foo.Sum', { Num1: 2, Num2: 3 }), 5);
});

test('an upstream killed mid-call fails the calls it carried at once; a bad magic number closes only that connection', async (t) => {
  const hangServer = new Server();
  hangServer.register(new Hang(), { name: 'Hang' });
  const h = await countedServer(hangServer);
  t.after(h.close);
  const a = await countedServer(fooServer('a'));
  t.after(a.close);
  const dp = await startDataplane(config([a.address], { hang: h.address }));
  t.after(() => dp.close());
  const addr = `tcp@${dp.addresses.get('gee')!}`;
  const c = await Client.dial(addr);
  t.after(() => c.close().catch(() => {}));

  const hung = Promise.allSettled([c.call('Hang.Forever', { Num1: 1 }), c.call('Hang.Forever', { Num1: 2 })]);
  await until(() => h.accepted() === 1, 2000, 'the upstream connection');
  await new Promise((r) => setTimeout(r, 30));
  const cut = Date.now();
  h.kill();
  const outcomes = await hung;
  assert.ok(Date.now() - cut < 1000);
  for (const o of outcomes) {
    assert.equal(o.status, 'rejected');
    assert.match(String((o as PromiseRejectedResult).reason), /ringside: UPSTREAM_RESET|ringside: (UPSTREAM|CONNECT)/);
  }

  // Wrong magic: logged and closed, no answer; everyone else carries on.
  const raw = await rawConnect(portOf(dp.addresses.get('gee')!));
  raw.socket.write('{"MagicNumber":1234,"CodecType":"application/gob"}\n');
  await raw.closed;
  assert.equal(raw.received().length, 0);
  // An unknown codec too.
  const raw2 = await rawConnect(portOf(dp.addresses.get('gee')!));
  raw2.socket.write('{"MagicNumber":3927900,"CodecType":"application/xml"}\n');
  await raw2.closed;
  assert.equal(raw2.received().length, 0);
  assert.equal(await c.call('Foo.Sum', { Num1: 20, Num2: 22 }), 42);
});
