/**
 * RingPipe benchmark: 200-byte messages between two worker threads, over a RingPipe and over one
 * postMessage per message, in one run.
 *
 *   msgs_per_s     frames the consumer received and checked / wall time from start to its report
 *   cpu_ns_per_msg process CPU (all threads; main idles meanwhile) over that window / frames
 *   idle_rtt_us    median round trip of one frame, pings 2 ms apart so the answering side parks
 *
 *   node dist/bench/ring.js [--json] [--duration-ms N] [--pings N]
 */
import { Worker } from 'node:worker_threads';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { createRingPipeDescriptor } from '../src/ring/index.js';
import type { BenchReport, BenchRole, BenchWorkerData } from './ring-worker.js';
import { benchOutput, ratioOf, writeBenchOutput } from './output.js';

type Transport = BenchWorkerData['transport'];

interface Figures {
  msgs_per_s: number;
  cpu_ns_per_msg: number;
  idle_rtt_us: number;
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const numArg = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : dflt;
};
const MSG_SIZE = 200;
const DURATION_MS = numArg('--duration-ms', 3000);
const PINGS = numArg('--pings', 200);
const PING_GAP_MS = 2;

const workerUrl = new URL('./ring-worker.js', import.meta.url);

function spawn(role: BenchRole, transport: Transport, extra: Partial<BenchWorkerData>, transferList: ArrayBuffer[] | MessagePort[] = []): Worker {
  const wd: BenchWorkerData = { role, transport, msgSize: MSG_SIZE, durationMs: DURATION_MS, pings: PINGS, pingGapMs: PING_GAP_MS, ...extra };
  return new Worker(workerUrl, { workerData: wd, transferList });
}

function next<T extends BenchReport['type']>(w: Worker, type: T): Promise<Extract<BenchReport, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: BenchReport): void => {
      if (m.type !== type) return;
      w.off('message', onMsg);
      w.off('error', reject);
      resolve(m as Extract<BenchReport, { type: T }>);
    };
    w.on('message', onMsg);
    w.once('error', reject);
  });
}

/** Two workers wired by the transport: a ring descriptor, or the two ports of a MessageChannel. */
function pair(roles: [BenchRole, BenchRole], transport: Transport): [Worker, Worker] {
  if (transport === 'ring') {
    const descriptor = createRingPipeDescriptor();
    return [spawn(roles[0], transport, { descriptor }), spawn(roles[1], transport, { descriptor })];
  }
  const { port1, port2 } = new MessageChannel();
  return [spawn(roles[0], transport, { port: port1 }, [port1]), spawn(roles[1], transport, { port: port2 }, [port2])];
}

async function throughput(transport: Transport): Promise<{ msgsPerS: number; cpuNsPerMsg: number; seqErrors: number }> {
  const [producer, consumer] = pair(['producer', 'consumer'], transport);
  await Promise.all([next(producer, 'ready'), next(consumer, 'ready')]);
  const done = next(consumer, 'consumed');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  producer.postMessage({ type: 'start' });
  const r = await done;
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await Promise.all([producer.terminate(), consumer.terminate()]);
  return { msgsPerS: r.msgs / wallS, cpuNsPerMsg: ((cpu.user + cpu.system) * 1000) / r.msgs, seqErrors: r.seqErrors };
}

async function idleRtt(transport: Transport): Promise<number> {
  const [pinger, ponger] = pair(['pinger', 'ponger'], transport);
  await Promise.all([next(pinger, 'ready'), next(ponger, 'ready')]);
  const rtts = next(pinger, 'rtts');
  pinger.postMessage({ type: 'start' });
  const { micros } = await rtts;
  await Promise.all([pinger.terminate(), ponger.terminate()]);
  micros.sort((x, y) => x - y);
  return micros[micros.length >> 1] ?? NaN;
}

async function measure(transport: Transport): Promise<Figures> {
  const tp = await throughput(transport);
  if (tp.seqErrors !== 0) throw new Error(`${transport}: ${tp.seqErrors} frames arrived out of sequence`);
  const rtt = await idleRtt(transport);
  const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;
  return { msgs_per_s: Math.round(tp.msgsPerS), cpu_ns_per_msg: round(tp.cpuNsPerMsg, 1), idle_rtt_us: round(rtt, 1) };
}

const ring = await measure('ring');
const postMessage = await measure('postMessage');

const summary = [
  `${MSG_SIZE}-byte messages between two worker threads, ${DURATION_MS} ms per throughput run, ${PINGS} pings ${PING_GAP_MS} ms apart`,
  'transport      msgs/s        CPU ns/msg   idle RTT µs',
  ...([['ring', ring], ['postMessage', postMessage]] as [string, Figures][]).map(
    ([name, f]) => `${name.padEnd(14)} ${f.msgs_per_s.toLocaleString('en-US').padStart(12)}  ${f.cpu_ns_per_msg.toFixed(1).padStart(10)}   ${f.idle_rtt_us.toFixed(1).padStart(10)}`,
  ),
];
writeBenchOutput(
  benchOutput('ring', {
    params: { message_bytes: MSG_SIZE, duration_ms: DURATION_MS, pings: PINGS, ping_gap_ms: PING_GAP_MS },
    results: [{ name: 'ring', ...ring }, { name: 'postMessage', ...postMessage }],
    ratios: {
      msgs_per_s_ring_over_postmessage: ratioOf(ring.msgs_per_s, postMessage.msgs_per_s),
      cpu_ring_over_postmessage: ratioOf(ring.cpu_ns_per_msg, postMessage.cpu_ns_per_msg),
      idle_rtt_ring_over_postmessage: ratioOf(ring.idle_rtt_us, postMessage.idle_rtt_us),
    },
  }),
  json,
  summary,
);
