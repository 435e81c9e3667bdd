/** Shared bits of the dRPC tests: temp socket paths and a raw SEQPACKET peer that sends any packet. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PacketSocket } from '../../src/drpc/packet-socket.js';
import { threadReactor } from '../../src/drpc/reactor.js';
import { dialSeqpacket } from '../../src/drpc/sockets.js';

/** The Python dRPC peer written from the wire format (dist/test/drpc → examples; it is not compiled). */
export const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'drpc-peer.py');

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ringside-drpc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A peer that writes raw packets and collects what comes back, for bad-input tests. */
export class RawPeer {
  readonly packets: Buffer[] = [];
  closed = false;
  readonly #socket: PacketSocket;
  #waiters: (() => void)[] = [];

  constructor(path: string) {
    const r = dialSeqpacket(path);
    if ('errno' in r) throw new Error(`dial ${path}: errno ${r.errno}`);
    this.#socket = new PacketSocket(r.fd, threadReactor(), {
      onPacket: (p) => {
        this.packets.push(Buffer.from(p));
        this.#notify();
      },
      onClose: () => {
        this.closed = true;
        this.#notify();
      },
    });
  }

  send(...packets: Buffer[]): void {
    this.#socket.send(packets);
  }

  close(): void {
    this.#socket.close('test');
  }

  /** Resolves when `cond` holds, rejects after `ms`. */
  async until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  #notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}
