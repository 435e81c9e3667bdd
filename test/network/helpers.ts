/**
 * Shared pieces for the Net/IO tests: tiny filters, a listener builder, and socket helpers.
 */
import net from 'node:net';
import { once } from 'node:events';
import { ActorRunLoop } from '../../src/actor/run-loop.js';
import { FilterStatus } from '../../src/types/network.js';
import type { Connection, FilterChainBuilder, ReadFilter, ReadFilterCallbacks } from '../../src/types/network.js';
import type { ChainInstaller, ListenerSettings } from '../../src/network/listeners/base.js';

/** Echoes every batch back, prefixed with `tag` once per connection. */
export class EchoFilter implements ReadFilter {
  #conn: Connection | null = null;
  readonly #tag: string;
  #tagged = false;

  constructor(tag = '') {
    this.#tag = tag;
  }

  initializeReadFilterCallbacks(cb: ReadFilterCallbacks): void {
    this.#conn = cb.connection;
  }

  onNewConnection(): FilterStatus {
    return FilterStatus.Continue;
  }

  onData(data: Buffer, endOfStream: boolean): FilterStatus {
    if (data.length > 0) {
      if (!this.#tagged && this.#tag !== '') {
        this.#tagged = true;
        this.#conn!.write(Buffer.from(this.#tag));
      }
      this.#conn!.write(Buffer.from(data));
    }
    void endOfStream;
    return FilterStatus.Stop;
  }
}

export function echoChain(tag = ''): ChainInstaller {
  return (_c: Connection, chain: FilterChainBuilder) => chain.addReadFilter(new EchoFilter(tag));
}

export function settings(name: string, filterChain: ChainInstaller[], extra: Partial<ListenerSettings> = {}): ListenerSettings {
  return { name, address: name, runLoop: new ActorRunLoop(), filterChain, ...extra };
}

/** Connects, writes `msg`, resolves with everything read until `bytes` arrived. */
export async function roundTrip(port: number, msg: string, bytes: number, host = '127.0.0.1'): Promise<string> {
  const socket = net.connect({ host, port });
  await once(socket, 'connect');
  socket.write(msg);
  let got = '';
  for await (const chunk of socket) {
    got += (chunk as Buffer).toString();
    if (got.length >= bytes) break;
  }
  socket.destroy();
  return got;
}

/** Resolves when `socket` closed; with the bytes read before. */
export function readUntilClose(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('error', () => {});
    socket.on('close', () => resolve(got));
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 5 ms until it is true or `ms` passed. */
export async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await delay(5);
  }
}
