/**
 * Worker side of bench/ring.ts. One role per worker: a producer streams fixed-size frames (a uint32
 * sequence number, then filler) until a deadline, a consumer walks the frames and checks the sequence;
 * a pinger sends one frame at a time with a pause (so the peer parks) and times the echo a ponger sends.
 * Each role runs over a RingPipe end or over a MessagePort with one postMessage per frame.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { openRingEndpoint } from '../src/ring/index.js';
import type { RingPipeDescriptor } from '../src/types/ring.js';

export type BenchRole = 'producer' | 'consumer' | 'pinger' | 'ponger';

export interface BenchWorkerData {
  role: BenchRole;
  transport: 'ring' | 'postMessage';
  descriptor?: RingPipeDescriptor;
  port?: MessagePort;
  msgSize: number;
  durationMs: number;
  pings: number;
  pingGapMs: number;
}

/** Worker → main. */
export type BenchReport =
  | { type: 'ready' }
  | { type: 'consumed'; msgs: number; seqErrors: number }
  | { type: 'rtts'; micros: number[] };

/** Main → worker. */
export type BenchCommand = { type: 'start' };

const data = workerData as BenchWorkerData;
const parent = parentPort;
if (parent === null) throw new Error('bench/ring-worker.js runs as a worker thread');
const report = (r: BenchReport): void => parent.postMessage(r);

const PM_WINDOW = 16384; // postMessage frames in flight before the producer waits for an ack
const PM_ACK_EVERY = 1024;

/** Checks frame sequence numbers across arbitrary chunk boundaries of a byte stream. */
class FrameChecker {
  bytes = 0;
  seqErrors = 0;
  readonly #size: number;
  constructor(size: number) {
    this.#size = size;
  }
  take(chunk: Uint8Array): void {
    const size = this.#size;
    const rem = this.bytes % size;
    let s = rem === 0 ? 0 : size - rem;
    let seq = (this.bytes + s) / size;
    const len = chunk.length;
    for (; s + 4 <= len; s += size, seq++) {
      const v = (chunk[s]! | (chunk[s + 1]! << 8) | (chunk[s + 2]! << 16) | (chunk[s + 3]! << 24)) >>> 0;
      if (v !== seq >>> 0) this.seqErrors++;
    }
    this.bytes += len;
  }
}

function frame(size: number): Uint8Array {
  const f = new Uint8Array(size);
  for (let i = 4; i < size; i++) f[i] = i & 0xff;
  return f;
}

function setSeq(f: Uint8Array, seq: number): void {
  f[0] = seq & 0xff;
  f[1] = (seq >>> 8) & 0xff;
  f[2] = (seq >>> 16) & 0xff;
  f[3] = (seq >>> 24) & 0xff;
}

function onStart(fn: () => void): void {
  parent!.once('message', (m: BenchCommand) => {
    if (m.type === 'start') fn();
  });
}

function ringRole(): void {
  const ep = openRingEndpoint(data.descriptor!, data.role === 'producer' || data.role === 'pinger' ? 'a' : 'b');
  const size = data.msgSize;
  switch (data.role) {
    case 'producer': {
      const f = frame(size);
      let seq = 0;
      let deadline = 0;
      const produce = (): void => {
        for (let k = 0; k < 4096; k++) {
          setSeq(f, seq++);
          if (!ep.write(f)) return; // the remainder is held; onDrain resumes
        }
        if (performance.now() < deadline) setImmediate(produce);
        else ep.end();
      };
      ep.onDrain = () => {
        if (performance.now() < deadline) produce();
        else ep.end();
      };
      onStart(() => {
        deadline = performance.now() + data.durationMs;
        produce();
      });
      break;
    }
    case 'consumer': {
      const checker = new FrameChecker(size);
      ep.onData = (chunk) => checker.take(chunk);
      ep.onEnd = () => {
        report({ type: 'consumed', msgs: Math.floor(checker.bytes / size), seqErrors: checker.seqErrors });
        ep.close();
      };
      break;
    }
    case 'ponger': {
      let have = 0;
      const echo = frame(size);
      ep.onData = (chunk) => {
        have += chunk.length;
        while (have >= size) {
          have -= size;
          ep.write(echo);
        }
      };
      ep.onEnd = () => ep.close();
      break;
    }
    case 'pinger': {
      const f = frame(size);
      let have = 0;
      let answered: (() => void) | null = null;
      ep.onData = (chunk) => {
        have += chunk.length;
        if (have >= size) {
          have -= size;
          answered?.();
        }
      };
      onStart(() => void pingLoop((done) => {
        answered = done;
        ep.write(f);
        ep.flush();
      }).then(() => ep.close()));
      break;
    }
  }
  report({ type: 'ready' });
}

function postMessageRole(): void {
  const port = data.port!;
  const size = data.msgSize;
  switch (data.role) {
    case 'producer': {
      const f = frame(size);
      let seq = 0;
      let acked = 0;
      let deadline = 0;
      let waiting = false;
      const produce = (): void => {
        waiting = false;
        for (let k = 0; k < 4096; k++) {
          if (seq - acked >= PM_WINDOW) {
            waiting = true;
            return;
          }
          setSeq(f, seq++);
          port.postMessage(f); // structured clone: one copy of the 200 bytes per message
        }
        if (performance.now() < deadline) setImmediate(produce);
        else port.postMessage({ end: seq });
      };
      port.on('message', (ack: number) => {
        acked = ack;
        if (!waiting) return;
        if (performance.now() < deadline) produce();
        else port.postMessage({ end: seq });
      });
      onStart(() => {
        deadline = performance.now() + data.durationMs;
        produce();
      });
      break;
    }
    case 'consumer': {
      const checker = new FrameChecker(size);
      let msgs = 0;
      port.on('message', (m: Uint8Array | { end: number }) => {
        if (m instanceof Uint8Array) {
          checker.take(m);
          if (++msgs % PM_ACK_EVERY === 0) port.postMessage(msgs);
          return;
        }
        report({ type: 'consumed', msgs, seqErrors: checker.seqErrors + (m.end === msgs ? 0 : 1) });
        port.close();
      });
      break;
    }
    case 'ponger': {
      const echo = frame(size);
      port.on('message', () => port.postMessage(echo));
      break;
    }
    case 'pinger': {
      const f = frame(size);
      let answered: (() => void) | null = null;
      port.on('message', () => answered?.());
      onStart(() => void pingLoop((done) => {
        answered = done;
        port.postMessage(f);
      }).then(() => port.close()));
      break;
    }
  }
  report({ type: 'ready' });
}

// Back-to-back pings before timing: both transports then run warm (JIT-compiled) code, as they do
// in a sidecar that has been serving for a while; otherwise the idle figure measures the interpreter.
const WARMUP_PINGS = 3000;

/** Sends data.pings pings data.pingGapMs apart and reports the round trips. */
async function pingLoop(send: (done: () => void) => void): Promise<void> {
  for (let i = 0; i < WARMUP_PINGS; i++) await new Promise<void>((done) => send(done));
  const micros: number[] = [];
  for (let i = 0; i < data.pings; i++) {
    await new Promise((r) => setTimeout(r, data.pingGapMs));
    const t0 = performance.now();
    await new Promise<void>((done) => send(done));
    micros.push((performance.now() - t0) * 1000);
  }
  report({ type: 'rtts', micros });
}

if (data.transport === 'ring') ringRole();
else postMessageRole();
