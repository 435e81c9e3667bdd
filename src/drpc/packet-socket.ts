/**
 * One connected SOCK_SEQPACKET fd: every recv() is one whole packet, every send() one whole packet
 * (the kernel sends a SEQPACKET message atomically or not at all, so there are no partial writes and
 * nothing is ever coalesced). Reading can be paused while a call runs; packets the peer sends
 * meanwhile stay in the kernel's queue (its socket buffer bounds them) until reading resumes.
 */
import { MAX_PACKET_BYTES } from './framing.js';
import { MSG_DONTWAIT, MSG_NOSIGNAL, MSG_TRUNC, POLLERR, POLLHUP, POLLIN, POLLOUT, errno, errnoName, loadLibc, type Libc } from './libc.js';
import type { Reactor, ReactorHandler } from './reactor.js';

/** Packets read per readiness report before other fds get their turn. */
const READ_BUDGET = 64;

/** One read buffer per thread, one byte larger than a packet so an oversized packet is noticed. */
let readBuffer: Buffer | undefined;

export interface PacketSocketEvents {
  /** A packet; the buffer is borrowed and valid only during the call. */
  onPacket(packet: Buffer): void;
  /** Called once, when the socket closed (by either side or on an error). */
  onClose(reason: string, error: Error | undefined): void;
  /** Called when packets queued for a peer that was not reading have all been sent. */
  onDrain?(): void;
}

export class PacketSocket implements ReactorHandler {
  readonly fd: number;
  readonly #libc: Libc;
  readonly #reactor: Reactor;
  readonly #events: PacketSocketEvents;
  #queue: Buffer[] = [];
  #paused = false;
  /** Paused and the peer sent something: POLLIN was dropped from the interest set. */
  #parked = false;
  #closed = false;
  /** closeAfterFlush was called: close once the queue is empty. */
  #closing: string | null = null;

  constructor(fd: number, reactor: Reactor, events: PacketSocketEvents) {
    this.fd = fd;
    this.#libc = loadLibc();
    this.#reactor = reactor;
    this.#events = events;
    reactor.add(fd, POLLIN, this);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes queued for a peer that is not reading. */
  get queuedBytes(): number {
    let n = 0;
    for (const b of this.#queue) n += b.length;
    return n;
  }

  pauseReading(): void {
    // POLLIN stays in the armed poll: a synchronous peer sends nothing while its call runs, so the
    // poll needs no wake-up; if it does send, onReady parks the socket.
    this.#paused = true;
  }

  resumeReading(): void {
    if (this.#closed || !this.#paused) return;
    this.#paused = false;
    if (this.#parked) {
      this.#parked = false;
      this.#updateInterest();
    }
  }

  /** Sends each packet with one send(); queues what the socket buffer cannot take yet. */
  send(packets: readonly Buffer[]): void {
    if (this.#closed) return;
    let i = 0;
    if (this.#queue.length === 0) {
      for (; i < packets.length; i++) {
        const r = this.#trySend(packets[i]!);
        if (r === 'closed') return;
        if (r === 'again') break;
      }
    }
    if (i < packets.length) {
      for (; i < packets.length; i++) this.#queue.push(packets[i]!);
      this.#updateInterest();
    }
  }

  /** Closes once every queued packet is sent (at once when none is queued); reading stops now. */
  closeAfterFlush(reason: string): void {
    if (this.#closed) return;
    if (this.#queue.length === 0) {
      this.close(reason);
      return;
    }
    this.#closing = reason;
    this.pauseReading();
  }

  close(reason: string, error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#reactor.remove(this.fd);
    this.#libc.close(this.fd);
    this.#events.onClose(reason, error);
  }

  onReady(revents: number): void {
    if (this.#closed) return;
    if ((revents & POLLOUT) !== 0) {
      this.#flush();
      if (this.#closed) return;
    }
    if ((revents & POLLIN) !== 0) {
      if (this.#paused) {
        this.#parked = true;
        this.#updateInterest();
      } else {
        this.#read();
        if (this.#closed) return;
      }
    }
    // HUP/ERR with nothing left to read (or while a call runs: the peer is gone, the call is moot).
    if ((revents & (POLLHUP | POLLERR)) !== 0 && ((revents & POLLIN) === 0 || this.#paused)) {
      this.close((revents & POLLERR) !== 0 ? 'socket error' : 'peer closed');
    }
  }

  #updateInterest(): void {
    const events = (this.#paused && this.#parked ? 0 : POLLIN) | (this.#queue.length > 0 ? POLLOUT : 0);
    this.#reactor.setEvents(this.fd, events);
  }

  #read(): void {
    readBuffer ??= Buffer.allocUnsafe(MAX_PACKET_BYTES + 1);
    const buf = readBuffer;
    for (let k = 0; k < READ_BUDGET && !this.#paused && !this.#closed; k++) {
      // MSG_TRUNC makes recv return a packet's real length even when it did not fit.
      const n = this.#libc.recv(this.fd, buf, buf.length, MSG_DONTWAIT | MSG_TRUNC);
      if (n < 0) {
        const e = this.#libc.errno();
        if (e === errno.EAGAIN || e === errno.EINTR) return;
        this.close(`recv failed: ${errnoName(e)}`);
        return;
      }
      // A zero-length read on a SEQPACKET socket is the peer's orderly close (a dRPC packet always
      // carries its 24-byte header).
      if (n === 0) {
        this.close('peer closed');
        return;
      }
      if (n > MAX_PACKET_BYTES) {
        this.close('oversized packet', new Error(`packet of ${n} bytes is larger than the ${MAX_PACKET_BYTES}-byte maximum`));
        return;
      }
      this.#events.onPacket(buf.subarray(0, n));
    }
  }

  #trySend(packet: Buffer): 'sent' | 'again' | 'closed' {
    const n = this.#libc.send(this.fd, packet, packet.length, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n === packet.length) return 'sent';
    if (n < 0) {
      const e = this.#libc.errno();
      if (e === errno.EAGAIN || e === errno.EINTR) return 'again';
      this.close(`send failed: ${errnoName(e)}`);
      return 'closed';
    }
    // Cannot happen on SEQPACKET (sends are atomic); treated as a broken session rather than trusted.
    this.close(`short send (${n} of ${packet.length} bytes)`);
    return 'closed';
  }

  #flush(): void {
    while (this.#queue.length > 0) {
      const r = this.#trySend(this.#queue[0]!);
      if (r === 'closed') return;
      if (r === 'again') break;
      this.#queue.shift();
    }
    this.#updateInterest();
    if (this.#queue.length > 0) return;
    if (this.#closing !== null) this.close(this.#closing);
    else this.#events.onDrain?.();
  }
}
