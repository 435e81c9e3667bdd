#!/usr/bin/env node
/**
 * The `ringside` command. Subcommands load lazily so `start` never pays for the load generator and
 * `bench` never loads the supervisor.
 */
import { readFileSync } from 'node:fs';

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
