/**
 * Shared by the supervisor and CLI tests: a child process whose stdout/stderr can be awaited line by
 * line, a line-protocol client, and a tiny admin HTTP client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';

export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching, rejects after timeoutMs. */
  waitStdout(re: RegExp, timeoutMs?: number): Promise<string>;
  waitStderr(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

export function startChild(script: string, args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, RINGSIDE_LOG: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    wake();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => {
      wake();
      resolve({ code, signal });
    }),
  );
  const waitFor = (read: () => string, re: RegExp, timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`timed out waiting for ${re}\nstdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
      const check = (): void => {
        const line = read().split('\n').find((l) => re.test(l));
        if (line !== undefined) {
          clearTimeout(deadline);
          resolve(line);
        } else if (proc.exitCode !== null) {
          clearTimeout(deadline);
          reject(new Error(`process exited (${proc.exitCode}) before ${re}\nstdout:\n${out}\nstderr:\n${err}`));
        } else waiters.push(check);
      };
      check();
    });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    waitStdout: (re, t = 15_000) => waitFor(() => out, re, t),
    waitStderr: (re, t = 15_000) => waitFor(() => err, re, t),
    exited,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

export interface LineClient {
  socket: Socket;
  /** Sends one line and resolves with the next line the server answers. */
  ask(line: string, timeoutMs?: number): Promise<string>;
  /** Resolves once the server closed the connection. */
  closed: Promise<void>;
}

export function lineClient(address: string): Promise<LineClient> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(address.slice(i + 1)), address.slice(0, i));
    let buffered = '';
    const pending: ((line: string) => void)[] = [];
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('data', (d) => {
      buffered += d.toString('utf8');
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        pending.shift()?.(line);
      }
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve({
        socket,
        closed,
        ask: (line, timeoutMs = 5000) =>
          new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error(`no answer to ${line}`)), timeoutMs);
            pending.push((l) => {
              clearTimeout(t);
              res(l);
            });
            socket.write(`${line}\n`);
          }),
      });
    });
  });
}

/** Resolves with the error code of a refused connection, or 'connected' when it was accepted. */
export function tryConnect(address: string): Promise<string> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect(Number(address.slice(i + 1)), address.slice(0, i));
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

export function http(method: string, url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let data = '';
      res.on('data', (d: Buffer) => (data += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data === '' ? null : (JSON.parse(data) as unknown) }));
    });
    req.on('error', reject);
    req.end();
  });
}
