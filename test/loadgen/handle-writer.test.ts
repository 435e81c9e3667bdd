import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { describe, it } from 'node:test';
import { directWritesAvailable, HandleWriter } from '../../src/loadgen/handle-writer.js';

async function pair(): Promise<{ client: net.Socket; server: net.Socket; listener: net.Server }> {
  // Half-open allowed: a client that ended its side stays open until the test closes it.
  const listener = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect({ host: '127.0.0.1', port: (listener.address() as net.AddressInfo).port });
  await new Promise<void>((resolve) => client.once('connect', resolve));
  return { client, server: await accepted, listener };
}

describe('writes straight to the socket handle', () => {
  it('is the path this Node takes', () => {
    assert.equal(directWritesAvailable, true);
  });

  it('delivers every byte in order when the kernel buffer fills and writes go asynchronous', async () => {
    const { client, server, listener } = await pair();
    try {
      server.pause(); // nobody reads: the send and receive buffers fill
      const errors: string[] = [];
      const writer = new HandleWriter(client, (code) => errors.push(code));
      const sent = createHash('sha256');
      let bytes = 0;
      // Distinct chunks (a counter in each) so a reordering or a lost chunk changes the digest.
      for (let i = 0; i < 256; i++) {
        const chunk = Buffer.alloc(64 * 1024, i & 0xff);
        chunk.writeUInt32BE(i, 0);
        writer.write(chunk);
        sent.update(chunk);
        bytes += chunk.length;
      }
      assert.ok(writer.asyncWrites > 0, 'the kernel took 16 MiB without queueing: the test proves nothing');
      const got = createHash('sha256');
      let received = 0;
      await new Promise<void>((resolve) => {
        server.on('data', (d: Buffer) => {
          got.update(d);
          received += d.length;
          if (received === bytes) resolve();
        });
        server.resume();
      });
      assert.equal(got.digest('hex'), sent.digest('hex'));
      assert.deepEqual(errors, []);
    } finally {
      client.destroy();
      server.destroy();
      listener.close();
    }
  });

  it('reports a failed write once, with its errno name', async () => {
    const { client, server, listener } = await pair();
    try {
      const errors: string[] = [];
      const writer = new HandleWriter(client, (code) => errors.push(code));
      client.on('error', () => {});
      // Writing after our own FIN is refused by the kernel (EPIPE), as a write to a reset peer is.
      client.end();
      await new Promise((resolve) => setTimeout(resolve, 20));
      writer.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      writer.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      assert.deepEqual(errors, ['EPIPE']);
    } finally {
      client.destroy();
      server.destroy();
      listener.close();
    }
  });
});
