#!/usr/bin/env node
/**
 * The `ringside` command. Subcommands load lazily so `start` never pays for the load generator and
 * `bench` never loads the supervisor.
 */
import { readFileSync } from 'node:fs';
import module from 'node:module';
import { availableParallelism } from 'node:os';

enableCompileCache();

const usage = `usage: ringside <command> [options]

commands:
  start [-c FILE] [--workers N]   run the sidecar (see: ringside start --help)
  bench …                         load-test any protocol Ringside speaks (see: ringside bench --help)
  tune …                          measure pool sizes and recommend one (see: ringside tune --help)
  registry --listen HOST:PORT     serve a geerpc registry (see: ringside registry --help)

options:
  -h, --help       this text
  -v, --version    the version`;

function version(): string {
  // Source layout is src/cli/, the build's is dist/src/cli/: package.json sits two or three levels up.
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ringside' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next layout
    }
  }
  return 'unknown';
}

/**
 * Before `start` loads the supervisor and validates the config, the data-plane threads begin loading
 * their own modules (src/supervisor/prewarm.ts), so the two happen side by side. The count is a
 * guess made without validating anything: --workers N, else ringside.workers of the -c file as
 * plain JSON, else the core count (the config's default); the supervisor spawns what is missing and
 * ends what is left over. Nothing is prewarmed for --check or --help.
 */
async function prewarmFor(argv: readonly string[]): Promise<void> {
  if (argv.some((a) => a === '--check' || a === '-h' || a === '--help')) return;
  const valueOf = (long: string, short: string): string | undefined => {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === long || a === short) return argv[i + 1];
      if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
    }
    return undefined;
  };
  let count = Number(valueOf('--workers', '-w'));
  if (!Number.isInteger(count) || count < 1) {
    const file = valueOf('--config', '-c');
    try {
      const w = file === undefined ? undefined : (JSON.parse(readFileSync(file, 'utf8')) as { ringside?: { workers?: unknown } }).ringside?.workers;
      count = typeof w === 'number' && Number.isInteger(w) && w >= 1 ? w : availableParallelism();
    } catch {
      count = availableParallelism(); // start reports an unreadable or invalid file itself
    }
  }
  const { prewarmDataplane } = await import('../supervisor/prewarm.js');
  prewarmDataplane(Math.min(count, availableParallelism() * 4));
}

/**
 * Node ≥ 22.1 keeps V8's code cache of every module it compiles on disk (module.enableCompileCache),
 * so a later start compiles less; Node 20 has no such API and starts as before. The directory is
 * handed on through NODE_COMPILE_CACHE, which is how worker threads started afterwards use it too.
 */
function enableCompileCache(): void {
  const enable = (module as { enableCompileCache?: () => { directory?: string } }).enableCompileCache;
  if (enable === undefined) return;
  const { directory } = enable();
  if (directory !== undefined && process.env.NODE_COMPILE_CACHE === undefined) process.env.NODE_COMPILE_CACHE = directory;
}

type Runner = (argv: string[]) => Promise<number | void> | number | void;

async function load(command: 'start' | 'bench' | 'tune' | 'registry'): Promise<Runner> {
  switch (command) {
    case 'start':
      return (await import('./start.js')).runStart;
    case 'bench':
      return (await import('./bench.js')).runBench;
    case 'tune':
      return (await import('./tune.js')).runTune;
    case 'registry':
      return (await import('./registry.js')).runRegistry;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      process.stdout.write(`${usage}\n`);
      return command === undefined ? 2 : 0;
    case '-v':
    case '--version':
      process.stdout.write(`ringside ${version()}\n`);
      return 0;
    case 'start':
    case 'bench':
    case 'tune':
    case 'registry': {
      if (command === 'start') await prewarmFor(rest);
      const code = await (await load(command))(rest);
      return typeof code === 'number' ? code : 0;
    }
    default:
      process.stderr.write(`ringside: unknown command "${command}"\n${usage}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ringside: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
