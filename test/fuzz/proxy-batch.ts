/**
 * The HTTP/1.1 fuzz batch through a real sidecar: mutated inputs are written to the proxy listener of
 * a `ringside start` child (two worker threads), each on its own connection followed by a half-close,
 * and the answers and the upstream's exact bytes are checked against the reference parser:
 *
 * - every connection is answered and closed within CASE_TIMEOUT_MS (no hang, no worker crash);
 * - the answers are well-formed, one per request the reference finds before the first one that ends
 *   the connection, plus one answer ≥ 400 when the input is invalid or unfinished — never a second
 *   answer to one request, never an answer below 400 to bad bytes;
 * - every request the upstream receives parses strictly and is the one the reference found at that
 *   position (method, target, body), identified by the `x-up` number the upstream answered with;
 *   the upstream receives no request whose answer did not come back (nothing smuggled or extra).
 *
 * Used by test/fuzz/proxy.test.ts (a bounded batch) and by `npm run fuzz -- --proxy N`.
 */
import net from 'node:net';
import { createHttp1ResponseDecoder } from '../../src/protocol/http1/decoder.js';
import { http1Codec } from '../../src/protocol/http1/codec.js';
import { mutate } from './engine/mutate.js';
import { Rng } from './engine/rng.js';
import { LoggingUpstream, proxySidecarConfig, startSidecar } from './sidecar.js';
import { FUZZ_LIMITS, http1Target } from './targets/http1.js';
import { parseRequests, type RefMessage } from './targets/http1-reference.js';

export const CASE_TIMEOUT_MS = 5000;

export interface ProxyFailure {
  readonly input: string;
  readonly reason: string;
}

export interface ProxyBatchReport {
  readonly cases: number;
  readonly seed: number;
  readonly ms: number;
  readonly forwarded: number;
  readonly answers: Record<string, number>;
  readonly failures: ProxyFailure[];
  readonly sidecarCrashed: boolean;
}

interface Answer {
  status: number;
  up: number | null;
}

function exchange(address: string, input: Buffer): Promise<{ bytes: Buffer; closed: boolean }> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(address.slice(i + 1)), address.slice(0, i));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), closed: false });
    }, CASE_TIMEOUT_MS);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), closed: true });
    });
    socket.on('connect', () => {
      socket.write(input);
      socket.end();
    });
  });
}

/** Ringside's answers, decoded strictly, for requests with the given methods in order. */
function decodeAnswers(bytes: Buffer, methods: string[]): { answers: Answer[]; error: string | null } {
  const answers: Answer[] = [];
  let error: string | null = null;
  const decoder = createHttp1ResponseDecoder({
    onHead: (head) => {
      const up = head.headers.get('x-up');
      answers.push({ status: head.status, up: up === undefined ? null : Number(up) });
    },
    onBody: () => {},
    onComplete: () => {},
    onError: (err) => {
      error = err.message;
    },
  });
  for (const m of methods) decoder.expect(http1Codec.newRequest(m, '/'));
  decoder.execute(bytes);
  decoder.finish();
  return { answers, error };
}

function sameRequest(got: RefMessage, want: RefMessage): boolean {
  return got.method === want.method && got.target === want.target && got.body === want.body;
}

/** Checks one case; null when Ringside behaved. */
function judge(input: Buffer, bytes: Buffer, closed: boolean, upstream: LoggingUpstream, tally: Record<string, number>): string | null {
  if (!closed) return `connection not closed within ${CASE_TIMEOUT_MS} ms (hang); got ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`;
  const ref = parseRequests(input, FUZZ_LIMITS);
  // What Ringside owes: an answer per request up to the first that ends the connection…
  const owed: RefMessage[] = [];
  let ended = false;
  for (const m of ref.messages) {
    owed.push(m);
    if (!m.keepAlive) {
      ended = true;
      break;
    }
  }
  // …and one error answer when the bytes after them are bad or unfinished.
  const errorOwed = !ended && ref.end.kind !== 'clean';
  const methods = owed.map((m) => m.method);
  if (errorOwed) methods.push('GET');
  const { answers, error } = decodeAnswers(bytes, methods);
  if (error !== null && !(answers.length === methods.length && /without a request/.test(error))) {
    return `answers do not parse: ${error}`;
  }
  if (answers.length !== methods.length) {
    return `${answers.length} answers, ${methods.length} owed (${owed.length} requests${errorOwed ? ` + error ${ref.end.kind === 'error' ? ref.end.status : 'unfinished'}` : ''}): ${JSON.stringify(answers)}`;
  }
  for (let i = 0; i < answers.length; i++) {
    const a = answers[i]!;
    tally[String(a.status)] = (tally[String(a.status)] ?? 0) + 1;
    if (i === owed.length) {
      if (a.status < 400) return `answer ${a.status} to invalid input (${ref.end.kind === 'error' ? ref.end.reason : 'unfinished'})`;
      if (a.up !== null) return 'the answer to invalid input came from the upstream';
      continue;
    }
    if (a.up === null) continue; // answered by Ringside itself (e.g. a local reply): nothing went upstream
    const logged = upstream.requests[a.up - 1];
    if (logged === undefined) return `answer names upstream request ${a.up}, which the upstream never logged`;
    if (!sameRequest(logged.message, owed[i]!)) {
      return `upstream request ${a.up} is ${JSON.stringify([logged.message.method, logged.message.target, logged.message.body])}, the client sent ${JSON.stringify([owed[i]!.method, owed[i]!.target, owed[i]!.body])}`;
    }
  }
  return null;
}

/** A valid request on a fresh connection, answered by the upstream. */
export async function validRequestWorks(address: string): Promise<string | null> {
  const { bytes, closed } = await exchange(address, Buffer.from('GET /still-works HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'));
  const { answers } = decodeAnswers(bytes, ['GET']);
  if (!closed || answers.length !== 1 || answers[0]!.status !== 200 || answers[0]!.up === null) {
    return `a valid request afterwards got ${JSON.stringify(answers)} (closed=${closed})`;
  }
  return null;
}

export async function runProxyBatch(opts: { cases: number; seed: number; concurrency?: number; maxFailures?: number }): Promise<ProxyBatchReport> {
  const upstream = await new LoggingUpstream().listen();
  const sidecar = await startSidecar(
    proxySidecarConfig([upstream.address], {
      limits: {
        max_header_bytes: FUZZ_LIMITS.maxHeaderBytes,
        max_headers: FUZZ_LIMITS.maxHeaders,
        max_body_bytes: FUZZ_LIMITS.maxBodyBytes,
        max_request_line_bytes: FUZZ_LIMITS.maxRequestLineBytes,
      },
    }),
  );
  const address = sidecar.listeners.get('edge')!;
  const rng = new Rng(opts.seed);
  const mopts = { dictionary: http1Target.dictionary, seeds: http1Target.seeds, maxBytes: http1Target.maxBytes };
  const inputs: Buffer[] = [];
  for (let i = 0; i < opts.cases; i++) {
    const seed = rng.pick(http1Target.seeds);
    inputs.push(i % 16 === 0 ? seed : mutate(rng, seed, mopts));
  }
  const failures: ProxyFailure[] = [];
  const tally: Record<string, number> = {};
  const maxFailures = opts.maxFailures ?? 20;
  let next = 0;
  let upAnswers = 0;
  const seenUp = new Set<number>();
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (next < inputs.length && failures.length < maxFailures) {
      const k = next++;
      const input = inputs[k]!;
      const { bytes, closed } = await exchange(address, input);
      const reason = judge(input, bytes, closed, upstream, tally);
      if (process.env.RINGSIDE_FUZZ_TRACE === '1') console.error(JSON.stringify({ k, input: input.toString('latin1'), answer: bytes.toString('latin1') }));
      for (const m of bytes.toString('latin1').matchAll(/\r\nx-up: (\d+)\r\n/gi)) {
        upAnswers++;
        seenUp.add(Number(m[1]));
      }
      if (reason !== null) failures.push({ input: input.toString('latin1'), reason });
      if (k % 500 === 499) {
        const still = await validRequestWorks(address);
        if (still !== null) failures.push({ input: input.toString('latin1'), reason: `after case ${k}: ${still}` });
        else upAnswers++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, lane));
    const still = await validRequestWorks(address);
    if (still !== null) failures.push({ input: '', reason: `after the batch: ${still}` });
    else upAnswers++;
    // Every request the upstream saw came back as an answer: none was smuggled or executed unseen.
    if (upstream.requests.length !== upAnswers) {
      const unseen = upstream.requests
        .map((r, i) => ({ ...r, n: i + 1 }))
        .filter((r) => !seenUp.has(r.n) && r.message.target !== '/still-works')
        .slice(0, 5);
      failures.push({
        input: '',
        reason: `the upstream received ${upstream.requests.length} requests, ${upAnswers} answers came from it; unanswered: ${JSON.stringify(unseen.map((r) => [r.n, r.message.method, r.message.target, r.message.body]))}`,
      });
    }
    for (const m of upstream.malformed.slice(0, 5)) {
      failures.push({ input: m.bytes, reason: `the upstream received bytes a strict parser rejects: ${m.reason}` });
    }
    const crashed = /crashed/.test(sidecar.child.stderr());
    return {
      cases: opts.cases,
      seed: opts.seed,
      ms: performance.now() - started,
      forwarded: upstream.requests.length,
      answers: tally,
      failures,
      sidecarCrashed: crashed,
    };
  } finally {
    await sidecar.stop();
    await upstream.close();
  }
}
