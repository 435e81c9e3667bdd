/**
 * Runs one Ringside sidecar for a tune step: spawns `ringside start -c FILE --workers N`, waits for
 * its `ringside ready:` line, reads its CPU time over all threads from /proc, and stops it with
 * SIGTERM. The sidecar is a separate process so its CPU can be told apart from the load generator's.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface SidecarCommand {
  /** Script run with this Node binary; default: Ringside's own dist/src/cli/main.js. */
  script: string;
  config: string | undefined;
  workers: number;
  readyTimeoutMs: number;
}

export interface RunningSidecar {
  readonly pid: number;
  /** listener name → address, from the ready line. */
  readonly listeners: ReadonlyMap<string, string>;
  /** CPU seconds (user + system) used so far by every thread of the sidecar. */
  cpuSeconds(): number;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const READY = /^ringside ready: workers=(\d+) listeners=(.*)$/;

export function parseReadyLine(line: string): Map<string, string> | undefined {
  const m = READY.exec(line.trim());
  if (m === null) return undefined;
  const listeners = new Map<string, string>();
  for (const item of m[2]!.split(',')) {
    const at = item.indexOf('@');
    if (at > 0) listeners.set(item.slice(0, at), item.slice(at + 1));
  }
  return listeners;
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of every live thread of `pid`, in seconds. */
export function processCpuSeconds(pid: number): number {
  let ticks = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the thread exited between readdir and read
    }
  }
  return ticks / ticksPerSecond();
}

export function startSidecar(cmd: SidecarCommand): Promise<RunningSidecar> {
  const args = [cmd.script, 'start', ...(cmd.config === undefined ? [] : ['-c', cmd.config]), '--workers', String(cmd.workers)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderrTail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderrTail = (stderrTail + d).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal === null ? null : -1))));
  return new Promise((resolve, reject) => {
    let buffered = '';
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      const lastLine = stderrTail.trim().split('\n').filter(Boolean).pop();
      reject(new Error(`sidecar with --workers ${cmd.workers} ${why}${lastLine === undefined ? '' : `: ${lastLine}`}`));
    };
    const timer = setTimeout(() => fail(`printed no ready line within ${cmd.readyTimeoutMs} ms`), cmd.readyTimeoutMs);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      if (settled) return;
      buffered += d;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const listeners = parseReadyLine(line);
        if (listeners !== undefined) {
          settled = true;
          clearTimeout(timer);
          child.stdout!.resume();
          resolve(running(child, listeners, exited));
          return;
        }
      }
    });
    child.once('error', (err) => fail(`could not start (${err.message})`));
    void exited.then((code) => fail(`exited with code ${code} before it was ready`));
  });
}

function running(child: ChildProcess, listeners: Map<string, string>, exited: Promise<number | null>): RunningSidecar {
  const pid = child.pid!;
  return {
    pid,
    listeners,
    cpuSeconds: () => processCpuSeconds(pid),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
