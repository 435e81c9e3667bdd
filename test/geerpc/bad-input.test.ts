import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Registry } from '../../src/geerpc/index.js';
import { fooServer, portOf, rawConnect } from './helpers.js';

const option = (o: Record<string, unknown>): string => `${JSON.stringify({ MagicNumber: 3927900, CodecType: 'application/gob', ConnectTimeout: 0, HandleTimeout: 0, ...o })}\n`;

test('a wrong magic number, an unknown codec, a non-JSON or oversized Option close only that connection', async () => {
  const server = fooServer();
  const l = await server.listen('tcp@127.0.0.1:0');
  const healthy = await Client.dial(l.addr);
  try {
    const bad = [option({ MagicNumber: 1 }), option({ CodecType: 'application/xml' }), 'GET / HTTP/1.1\r\n\r\n', `{"MagicNumber":${'1'.repeat(5000)}`];
    for (const bytes of bad) {
      const raw = await rawConnect(portOf(l.addr));
      raw.socket.write(bytes);
      await raw.closed;
      assert.equal(raw.received().length, 0, bytes.slice(0, 40));
    }
    assert.equal(await healthy.call('Foo.Sum', { Num1: 2, Num2: 3 }), 5);
  } finally {
    await healthy.close();
    await server.close();
  }
});

test('a malformed gob stream after a good Option fails that connection only', async () => {
  const server = fooServer();
  const l = await server.listen('tcp@127.0.0.1:0');
  const healthy = await Client.dial(l.addr);
  try {
    for (const garbage of ['05ff82010178', '03040106', 'f7000000000000000000', '04ff810000']) {
      const raw = await rawConnect(portOf(l.addr));
      raw.socket.write(Buffer.concat([Buffer.from(option({})), Buffer.from(garbage, 'hex')]));
      await raw.closed;
    }
    assert.equal(await healthy.call('Foo.Sum', { Num1: 4, Num2: 3 }), 7);
  } finally {
    await healthy.close();
    await server.close();
  }
});

test('a gob message past the limit is refused before it is buffered', async () => {
  const server = fooServer();
  const l = await server.listen('tcp@127.0.0.1:0');
  const raw = await rawConnect(portOf(l.addr));
  // Length prefix fc 40 00 00 00 = 1 GiB: refused on sight.
  raw.socket.write(Buffer.concat([Buffer.from(option({})), Buffer.from('fc40000000', 'hex')]));
  await raw.closed;
  await server.close();
});

test('registry: POST without X-Geerpc-Server answers 500, other methods 405', async () => {
  const reg = new Registry();
  const { url, close } = await reg.listen('127.0.0.1', 0);
  try {
    assert.equal((await fetch(url, { method: 'POST' })).status, 500);
    assert.equal((await fetch(url, { method: 'PUT' })).status, 405);
    assert.equal((await fetch(url, { method: 'DELETE' })).status, 405);
    assert.equal((await fetch(url.replace('/_geerpc_/registry', '/elsewhere'))).status, 404);
    assert.equal((await fetch(url)).headers.get('x-geerpc-servers'), '');
  } finally {
    await close();
  }
});
