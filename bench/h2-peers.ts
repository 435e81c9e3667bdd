/**
 * The two node:http2 processes bench:h2 runs beside the servers under test, started as children:
 *
 *   node dist/bench/h2-peers.js upstream [N]        a gRPC responder (the upstream every proxy under
 *                                                   test forwards to): 200, one message, trailers;
 *                                                   on /bench.Echo/Stream a server stream of N messages
 *                                                   (default 1000; a multiple of 100, written 100 per
 *                                                   DATA write as the stream's window allows)
 *   node dist/bench/h2-peers.js forwarder UPSTREAM  a bare node:http2 pass-through forwarder: each
 *                                                   downstream stream becomes one stream on a shared
 *                                                   upstream session; body, head and trailers piped
 *
 * Each prints `listening PORT` on stdout once bound to 127.0.0.1:0.
 */
import http2 from 'node:http2';
import type net from 'node:net';

const REPLY = Buffer.concat([Buffer.from([0, 0, 0, 0, 12]), Buffer.from('hello world!')]);
/** 100 REPLY messages: one write of a server stream. */
const STREAM_CHUNK = Buffer.concat(Array.from({ length: 100 }, () => REPLY));

function upstream(streamMessages: number): void {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  server.on('stream', (stream, headers) => {
    stream.on('data', () => {});
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      if (headers[':path'] !== '/bench.Echo/Stream') {
        stream.end(REPLY);
        return;
      }
      // Written as the window allows: a slow reader slows the stream (and the proxy in between).
      let left = streamMessages / 100;
      const pump = (): void => {
        while (left > 0) {
          left--;
          if (left === 0) {
            stream.end(STREAM_CHUNK);
            return;
          }
          if (!stream.write(STREAM_CHUNK)) {
            stream.once('drain', pump);
            return;
          }
        }
      };
      pump();
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
const streamMessages = Number(target ?? 1000);
if (mode === 'upstream' && Number.isInteger(streamMessages / 100) && streamMessages > 0) upstream(streamMessages);
else if (mode === 'forwarder' && target !== undefined) forwarder(target);
else {
  process.stderr.write('usage: h2-peers.js upstream [N, a multiple of 100] | forwarder HOST:PORT\n');
  process.exit(2);
}
