/**
 * `ringside bench TARGET`: drive load at a target over any protocol Ringside speaks and report HDR
 * percentiles, throughput and errors by status; `--compare URL` repeats the load against a second
 * target and reports the overhead. Exit codes: 0 ran, 1 the run is invalid (target unreachable,
 * nothing succeeded, bad proto/message), 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { loadOptionSpec, loadOptionsHelp, toLoadOptions } from '../loadgen/options.js';
import { progressDisplay } from '../loadgen/progress.js';
import { compareReports, renderTable, toJson, type CompareReport } from '../loadgen/report.js';
import { BenchError, runLoad, type LoadOptions, type LoadReport } from '../loadgen/runner.js';

const usage = `usage: ringside bench [options] TARGET

Drives load at TARGET (http://host:port/path for http1; http://host:port for grpc; drpc:/path.sock
for drpc) and reports
latency percentiles (HDR histogram), throughput and errors by status.

  -c, --connections N    connections (default 10)
      --compare URL      baseline: run the same load against URL right after and report what
                         TARGET adds over it (TARGET - URL p50/p99, + = TARGET slower) and the
                         throughput ratio TARGET / URL
      --json             print one JSON object instead of the table
  -h, --help
${loadOptionsHelp}

Examples:
  ringside bench -c 50 -d 10s http://127.0.0.1:2045/
  ringside bench -R 2000 -d 20s -c 20 http://127.0.0.1:2045/       # open loop, CO-corrected
  ringside bench -p grpc --grpc-api layotto -c 8 --concurrency 16 http://127.0.0.1:34904
  ringside bench -p drpc -c 8 drpc:/tmp/ringside-drpc.sock                 # InvokeService over dRPC
  ringside bench -p grpc --proto echo.proto --call echo.Echo/Say --message '{"text":"hi"}' http://127.0.0.1:50051
`;

export async function runBench(argv: string[]): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...loadOptionSpec,
        connections: { type: 'string', short: 'c' },
        compare: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`ringside bench: ${(err as Error).message}\n(see ringside bench --help)\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`ringside bench: expected one TARGET URL, got ${positionals.length}\n(see ringside bench --help)\n`);
    return 2;
  }
  let opts: LoadOptions;
  try {
    opts = toLoadOptions(positionals[0]!, values, undefined);
  } catch (err) {
    process.stderr.write(`ringside bench: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    const main = await runWithProgress(opts, 'bench');
    let compare: CompareReport | undefined;
    if (values.compare !== undefined) compare = compareReports(main, await runWithProgress({ ...opts, target: values.compare }, 'compare'));
    if (values.json === true) process.stdout.write(JSON.stringify(toJson(main, compare)) + '\n');
    else process.stdout.write(renderTable(main, compare));
    for (const w of [...main.warnings, ...(compare?.result.warnings ?? [])]) process.stderr.write(`ringside bench: warning: ${w}\n`);
    return invalid(main) || (compare !== undefined && invalid(compare.result)) ? 1 : 0;
  } catch (err) {
    if (err instanceof BenchError) {
      process.stderr.write(`ringside bench: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** A run where nothing succeeded measures nothing; its figures must not pass for a result. */
function invalid(r: LoadReport): boolean {
  return r.requests === 0 || r.errors === r.requests;
}

async function runWithProgress(opts: LoadOptions, label: string): Promise<LoadReport> {
  const display = progressDisplay(label, {
    durationMs: opts.durationMs === undefined ? undefined : opts.durationMs + opts.warmupMs,
    requests: opts.requests,
  });
  try {
    return await runLoad({ ...opts, onProgress: (p) => display.update(p) });
  } finally {
    display.stop();
  }
}
