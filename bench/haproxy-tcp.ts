/**
 * The L4 anchor of the RPC benchmarks (bolt, geerpc): HAProxy in `mode tcp` in front of one
 * upstream port, started as a daemon from a config written to a temporary directory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port free on 127.0.0.1 at the time of the call. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface HaproxyTcp {
  readonly pid: number;
  readonly port: number;
  stop(): void;
}

/** `listen` is the proxy's section name; `nbthread` pins HAProxy's threads when given. */
export async function startHaproxyTcp(upstreamPort: number, opts: { listen: string; server: string; nbthread?: number }): Promise<HaproxyTcp> {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-bench-haproxy-'));
  const port = await freePort();
  writeFileSync(join(dir, 'haproxy.cfg'), [
    'global', '  maxconn 1024', ...(opts.nbthread !== undefined ? [`  nbthread ${opts.nbthread}`] : []),
    'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s',
    `listen ${opts.listen}`, `  bind 127.0.0.1:${port}`, `  server ${opts.server} 127.0.0.1:${upstreamPort}`, '',
  ].join('\n'));
  const pidFile = join(dir, 'haproxy.pid');
  await new Promise<void>((resolve, reject) => {
    const p = spawn('haproxy', ['-D', '-q', '-f', join(dir, 'haproxy.cfg'), '-p', pidFile], { stdio: 'ignore' });
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`haproxy exited with ${code}`))));
  });
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return { pid, port, stop: () => { process.kill(pid, 'SIGTERM'); rmSync(dir, { recursive: true, force: true }); } };
}
