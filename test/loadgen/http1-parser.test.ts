import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Http1ResponseParser, ResponseParseError } from '../../src/loadgen/http1-parser.js';

function collect(head = false): { parser: Http1ResponseParser; seen: [number, boolean][] } {
  const seen: [number, boolean][] = [];
  const parser = new Http1ResponseParser({ onResponse: (s, c) => seen.push([s, c]) }, head);
  return { parser, seen };
}

/** Feeds `text` in pieces of `step` bytes through one reused buffer, like the onread buffer. */
function feedInPieces(parser: Http1ResponseParser, text: string, step: number): void {
  const all = Buffer.from(text, 'latin1');
  const scratch = Buffer.alloc(128 * 1024, 0x41); // stale bytes past `end` must be ignored
  for (let i = 0; i < all.length; i += step) {
    const piece = all.subarray(i, Math.min(all.length, i + step));
    piece.copy(scratch, 0);
    parser.feed(scratch, 0, piece.length);
  }
}

const cl = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 5\r\n\r\nhello';
const chunked =
  'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n0a\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n';

describe('http1 response parser', () => {
  it('finds Content-Length and chunked response ends at any split point', () => {
    for (const step of [1, 2, 3, 7, 1000]) {
      const { parser, seen } = collect();
      feedInPieces(parser, cl + chunked + cl, step);
      assert.deepEqual(seen, [[200, false], [201, false], [200, false]], `step ${step}`);
    }
  });

  it('reads header names in any case and only those names', () => {
    const { parser, seen } = collect();
    const heads =
      'HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 3\r\nCONNECTION: CLOSE\r\n\r\nabc' +
      // Not the names the parser looks for: a CR or a space where "-" or ":" belongs, a longer name.
      'HTTP/1.1 200 OK\r\nContent\rLength: 99\r\nContent-Length : 98\r\nContent-Lengths: 97\r\nConnection\r 1\r\nContent-Length: 1\r\n\r\nx' +
      'HTTP/1.1 200 OK\r\ntRaNsFeR-eNcOdInG: ChUnKeD\r\n\r\n1\r\nz\r\n0\r\n\r\n';
    feedInPieces(parser, heads, 1000);
    assert.deepEqual(seen, [[200, true], [200, false], [200, false]]);
  });

  it('reports Connection: close and error statuses', () => {
    const { parser, seen } = collect();
    feedInPieces(parser, 'HTTP/1.1 500 Internal\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n', 1000);
    assert.deepEqual(seen, [[500, true]]);
  });

  it('treats 204, 304 and HEAD responses as bodiless and skips 100 Continue', () => {
    const { parser, seen } = collect();
    feedInPieces(parser, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n', 5);
    assert.deepEqual(seen, [[204, false], [304, false]]);
    const head = collect(true);
    feedInPieces(head.parser, 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n', 1000);
    assert.equal(head.seen.length, 2);
  });

  it('reads a body without length until the peer closes', () => {
    const { parser, seen } = collect();
    feedInPieces(parser, 'HTTP/1.0 200 OK\r\n\r\nsome body', 4);
    assert.equal(seen.length, 0);
    parser.end();
    assert.deepEqual(seen, [[200, false]]);
  });

  it('resumes a head cut at any byte, including between CR and LF, and bounds its size', () => {
    const head = 'HTTP/1.1 200 OK\r\nX-Long: ' + 'v'.repeat(300) + '\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc';
    for (let cut = 1; cut < head.length; cut++) {
      const { parser, seen } = collect();
      const all = Buffer.from(head, 'latin1');
      parser.feed(all, 0, cut);
      parser.feed(all, cut, all.length);
      assert.deepEqual(seen, [[200, true]], `cut at ${cut}`);
    }
    const huge = 'HTTP/1.1 200 OK\r\n' + ('X-Pad: ' + 'p'.repeat(1000) + '\r\n').repeat(70);
    for (const step of [100_000, 4096, 333]) {
      const { parser } = collect();
      assert.throws(() => feedInPieces(parser, huge, step), /response head too large/, `step ${step}`);
    }
  });

  it('rejects bytes that are not an HTTP response', () => {
    const { parser } = collect();
    assert.throws(() => feedInPieces(parser, 'SSH-2.0-OpenSSH\r\n\r\n', 1000), ResponseParseError);
    const bad = collect();
    assert.throws(() => feedInPieces(bad.parser, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 1000), ResponseParseError);
  });
});
