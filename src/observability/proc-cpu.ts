/**
 * The one /proc CPU reader (Linux): user + system time of a whole process or of one thread, in
 * seconds. `ringside bench`'s anchors, `ringside tune`, the benchmarks, `/stats` and `/metrics` all
 * read CPU here, so they count the same thing:
 *
 *   process  /proc/PID/stat          every thread, including threads that already exited (the kernel
 *                                    folds a finished thread's time into the process) — a respawned
 *                                    worker's or a finished offload thread's time is not lost, which
 *                                    summing /proc/PID/task/* would do
 *   thread   /proc/thread-self/stat  the calling thread only (a worker reports its own time)
 *
 * Both answer undefined where /proc cannot be read (another OS, a process that is gone).
 */
import { readFileSync } from 'node:fs';

/**
 * The unit of /proc's utime/stime: USER_HZ, which the kernel ABI fixes at 100 on every architecture
 * Ringside runs on (x86_64, aarch64), whatever the kernel's own tick rate (`getconf CLK_TCK` says 100).
 */
const TICKS_PER_SECOND = 100;

/** utime + stime (fields 14 and 15) of one /proc stat line, in seconds. */
export function statCpuSeconds(line: string): number {
  // The fields after the parenthesised command name, which may itself hold spaces or ')'.
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function readStat(path: string): number | undefined {
  try {
    return statCpuSeconds(readFileSync(path, 'latin1'));
  } catch {
    return undefined;
  }
}

/** CPU seconds of the whole process `pid` (default: this one), exited threads included. */
export function processCpuSeconds(pid: number = process.pid): number | undefined {
  return readStat(`/proc/${pid}/stat`);
}

/** CPU seconds of the calling thread (the main thread or a worker thread). */
export function threadCpuSeconds(): number | undefined {
  return readStat('/proc/thread-self/stat');
}
