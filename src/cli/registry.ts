/**
 * `ringside registry --listen HOST:PORT [--timeout DURATION]`: serves a GeeRegistry at
 * /_geerpc_/registry and prints one line with its URL once it is listening.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../common/duration.js';
import { Registry, DEFAULT_REGISTRY_TIMEOUT_MS } from '../geerpc/registry.js';

const usage = `usage: ringside registry --listen HOST:PORT [--timeout DURATION]

  --listen HOST:PORT   where to serve the registry (port 0 picks a free one)
  --timeout DURATION   how long a server stays alive after its last heartbeat (default 5m; 0 = forever)`;

export async function runRegistry(argv: string[]): Promise<number> {
  let values: { listen?: string; timeout?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { listen: { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    process.stderr.write(`ringside registry: ${(err as Error).message}\n${usage}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(values.listen ?? '');
  if (m === null || Number(m[3]) > 65535) {
    process.stderr.write(`ringside registry: --listen needs HOST:PORT, got ${JSON.stringify(values.listen ?? '')}\n${usage}\n`);
    return 2;
  }
  let timeoutMs = DEFAULT_REGISTRY_TIMEOUT_MS;
  if (values.timeout !== undefined) {
    const d = parseDuration(values.timeout);
    if (!d.ok) {
      process.stderr.write(`ringside registry: --timeout: ${d.message}\n`);
      return 2;
    }
    timeoutMs = d.value;
  }
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!);
  const registry = new Registry({ timeoutMs });
  const { url, close } = await registry.listen(host, Number(m[3]));
  process.stdout.write(`geerpc registry listening on ${url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await close();
  return 0;
}
