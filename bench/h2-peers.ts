/**
 * The two node:http2 processes bench:h2 runs beside the servers under test, started as children:
 *
 *   node dist/bench/h2-peers.js upstream            a unary gRPC responder (the upstream every proxy
 *                                                   under test forwards to): 200, one message, trailers
 *   node dist/bench/h2-peers.js forwarder UPSTREAM  a bare node:http2 pass-through forwarder: each
 *                                                   downstream stream becomes one stream on a shared
 *                                                   upstream session; body, head and trailers piped
 *
 * Each prints `listening PORT` on stdout once bound to 127.0.0.1:0.
 */
import http2 from 'node:http2';
import type net from 'node:net';

const REPLY = Buffer.concat([Buffer.from([0, 0, 0, 0, 12]), Buffer.from('hello world!')]);

function upstream(): void {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  server.on('stream', (stream) => {
    stream.on('data', () => {});
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(REPLY);
    });
    stream.on('error', () => {});
  });
  server.on('sessionError', () => {});
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as net.AddressInfo).port}\n`));
}

function forwarder(target: string): void {
  let session: http2.ClientHttp2Session | null = null;
  const upstreamSession = (): http2.ClientHttp2Session => {
    if (session === null || session.closed || session.destroyed) {
      session = http2.connect(`http://${target}`);
      session.on('error', () => (session = null));
      session.on('close', () => (session = null));
    }
    return session;
  };
  const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  server.on('stream', (down, headers) => {
    const out: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (k !== ':scheme' && k !== ':authority' && v !== undefined) out[k] = v;
    const up = upstreamSession().request(out);
    down.pipe(up);
    let trailers: http2.OutgoingHttpHeaders = {};
    up.on('response', (h) => {
      const head: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(h)) if (v !== undefined) head[k] = v;
      down.respond(head, { waitForTrailers: true });
      up.pipe(down);
    });
    up.on('trailers', (t) => (trailers = t));
    down.on('wantTrailers', () => down.sendTrailers(trailers));
    up.on('error', () => down.destroy());
    down.on('error', () => up.destroy());
  });
  server.on('sessionError', () => {});
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as net.AddressInfo).port}\n`));
}

const [mode, target] = process.argv.slice(2);
if (mode === 'upstream') upstream();
else if (mode === 'forwarder' && target !== undefined) forwarder(target);
else {
  process.stderr.write('usage: h2-peers.js upstream | forwarder HOST:PORT\n');
  process.exit(2);
}
