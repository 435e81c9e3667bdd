/**
 * Runs one Ringside sidecar for a tune step: spawns `ringside start -c FILE --workers N`, waits for
 * its `ringside ready:` line, reads its CPU time over all threads from /proc, and stops it with
 * SIGTERM, waiting for it to exit: the next step binds the same fixed ports (the default config's
 * 34904/50001/3500 and the admin 34901), and Ringside's data listeners use SO_REUSEPORT, so a
 * sidecar still draining would silently share the next step's load. The sidecar is a separate
 * process so its CPU can be told apart from the load generator's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { processCpuSeconds as procCpuSeconds } from '../../observability/proc-cpu.js';

export interface SidecarCommand {
  /** Script run with this Node binary; default: Ringside's own dist/src/cli/main.js. */
  script: string;
  config: string | undefined;
  workers: number;
  readyTimeoutMs: number;
}

export interface RunningSidecar {
  readonly pid: number;
  /** The pool size the ready line reports (checked against the one asked for). */
  readonly workers: number;
  /** listener name → address, from the ready line. */
  readonly listeners: ReadonlyMap<string, string>;
  /** CPU seconds (user + system) used so far by every thread of the sidecar. */
  cpuSeconds(): number;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const READY = /^ringside ready: workers=(\d+) listeners=(.*)$/;

export interface ReadyLine {
  workers: number;
  /** listener name → address ("127.0.0.1:3500", a socket path, or an in-process name). */
  listeners: Map<string, string>;
}

export function parseReadyLine(line: string): ReadyLine | undefined {
  const m = READY.exec(line.trim());
  if (m === null) return undefined;
  const listeners = new Map<string, string>();
  for (const item of m[2]!.split(',')) {
    const at = item.indexOf('@');
    if (at > 0) listeners.set(item.slice(0, at), item.slice(at + 1));
  }
  return { workers: Number(m[1]), listeners };
}

/**
 * Sidecars this process started and has not seen exit. If tune itself dies (an error, Ctrl-C,
 * SIGTERM), each gets SIGTERM on the way out, so none is left holding the fixed ports.
 */
const live = new Map<ChildProcess, Promise<unknown>>();
let exitHookInstalled = false;
function track(child: ChildProcess, exited: Promise<unknown>): void {
  live.set(child, exited);
  void exited.then(() => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live.keys()) c.kill('SIGTERM');
  });
}

/**
 * SIGTERM to every sidecar still running, then waits until each exited, so the ports are free when
 * tune's own signal handler exits. The load may still hold connections open, which a drain would
 * wait out, so a second SIGTERM follows after `hurryMs` (Ringside exits at once on a second signal)
 * and SIGKILL after `graceMs`.
 */
export async function stopAllSidecars(hurryMs = 500, graceMs = 5000): Promise<void> {
  const waits = [...live].map(([child, exited]) => {
    child.kill('SIGTERM');
    const hurry = setTimeout(() => child.kill('SIGTERM'), hurryMs);
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    return exited.then(() => {
      clearTimeout(hurry);
      clearTimeout(kill);
    });
  });
  await Promise.all(waits);
}

/** CPU seconds of the whole sidecar process, every thread, exited ones included (src/observability/proc-cpu.ts). */
export function processCpuSeconds(pid: number): number {
  return procCpuSeconds(pid) ?? 0;
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
  track(child, exited);
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
        const ready = parseReadyLine(line);
        if (ready !== undefined) {
          if (ready.workers !== cmd.workers) {
            // The step would be measured and labelled with a pool size the sidecar does not run.
            fail(`reported workers=${ready.workers} in its ready line`);
            return;
          }
          settled = true;
          clearTimeout(timer);
          child.stdout!.resume();
          resolve(running(child, ready, exited));
          return;
        }
      }
    });
    child.once('error', (err) => fail(`could not start (${err.message})`));
    void exited.then((code) => fail(`exited with code ${code} before it was ready`));
  });
}

function running(child: ChildProcess, ready: ReadyLine, exited: Promise<number | null>): RunningSidecar {
  const pid = child.pid!;
  return {
    pid,
    workers: ready.workers,
    listeners: ready.listeners,
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
