import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { Server, gob } from '../../src/geerpc/index.js';

export const ArgsType = gob.struct('Args', { Num1: gob.int, Num2: gob.int });

/** The walk-through's Foo, plus a method that fails and one that says which server answered. */
export class Foo {
  constructor(readonly id = 'foo') {}
  Sum(a: { Num1: number; Num2: number }): number {
    return a.Num1 + a.Num2;
  }
  async Sleep(a: { Num1: number; Num2: number }): Promise<number> {
    await new Promise((r) => setTimeout(r, a.Num1));
    return a.Num1 + a.Num2;
  }
  Fail(): never {
    throw new Error('foo failed on purpose');
  }
  /** Fails at once on the server named by Fail, sleeps Ms elsewhere. */
  async Maybe(a: { Fail: string; Ms: number }): Promise<string> {
    if (a.Fail === this.id) throw new Error(`${this.id} failed`);
    await new Promise((r) => setTimeout(r, a.Ms));
    return this.id;
  }
  Who(): string {
    return this.id;
  }
}

export function fooServer(id = 'foo'): Server {
  const s = new Server();
  s.register(new Foo(id), { name: 'Foo', types: { Sum: { args: ArgsType, reply: gob.int } } });
  return s;
}

export function tempSocketPath(name: string): string {
  return join(mkdtempSync(join(tmpdir(), 'ringside-geerpc-')), name);
}

/** A raw socket to host:port, with everything it receives collected. */
export async function rawConnect(port: number): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

export function portOf(addr: string): number {
  return Number(addr.slice(addr.lastIndexOf(':') + 1));
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}
