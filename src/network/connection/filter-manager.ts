/**
 * The network filter chain of one connection (MOSN FilterManager, Envoy network FilterManagerImpl).
 *
 * Semantics, pinned by test/network/filter-chain.test.js:
 * - onNewConnection runs on each read filter in order. Stop halts the chain: later filters are not
 *   initialized and the connection does not read, until the stopping filter calls continueReading().
 * - onData runs on each filter in order with a borrowed buffer. Stop from the LAST filter means it
 *   consumed the bytes (a terminal filter: tcp_proxy, proxy); reading goes on. Stop from an earlier
 *   filter halts the chain: the batch is copied and held, reading pauses, and continueReading() hands
 *   the held bytes to the filters after the one that stopped, then reading resumes. So order is kept
 *   and copies happen only when a non-terminal filter holds data (e.g. waiting on an auth answer).
 * - Write filters run in order on every write; Stop drops the bytes (the filter owns them then).
 */
import { FilterStatus } from '../../types/network.js';
import type { Connection, FilterChainBuilder, ReadFilter, WriteFilter } from '../../types/network.js';
import { logger } from '../../common/log.js';

const log = logger('network');
const EMPTY = Buffer.alloc(0);

/** What the filter manager needs from its connection. */
export interface FilterHost {
  readonly connection: Connection;
  /** The chain halted or resumed: the connection pauses or resumes its transport reads. */
  setChainHalted(halted: boolean): void;
  /** Every filter is initialized: the connection may start reading. */
  chainReady(): void;
  /** Asks the read loop to run continueFrom(index) in order with reads (a message to the read actor). */
  requestContinue(index: number): void;
}

interface ReadEntry {
  filter: ReadFilter;
  initialized: boolean;
}

export class FilterManager implements FilterChainBuilder {
  readonly #host: FilterHost;
  readonly #read: ReadEntry[] = [];
  readonly writeFilters: WriteFilter[] = [];
  /** Index of the filter that halted the chain, or -1. */
  #haltedAt = -1;
  #ready = false;
  /** Bytes a non-terminal Stop held: seen by filters up to #haltedAt, delivered on continueReading. */
  #held: Buffer | null = null;
  #heldEos = false;
  /** Bytes read while halted or before initialization ended: no filter has seen them yet. */
  #backlog: Buffer | null = null;
  #backlogEos = false;

  constructor(host: FilterHost) {
    this.#host = host;
  }

  addReadFilter(filter: ReadFilter): void {
    const index = this.#read.length;
    this.#read.push({ filter, initialized: false });
    const host = this.#host;
    filter.initializeReadFilterCallbacks({
      connection: host.connection,
      continueReading: () => host.requestContinue(index),
    });
  }

  addWriteFilter(filter: WriteFilter): void {
    this.writeFilters.push(filter);
  }

  get readFilterCount(): number {
    return this.#read.length;
  }

  get halted(): boolean {
    return this.#haltedAt >= 0;
  }

  /** Runs onNewConnection from the first filter not yet initialized. */
  initialize(): void {
    this.#initializeFrom(0);
  }

  /** The read loop hands each batch here; data is borrowed. */
  onData(data: Buffer, endOfStream: boolean): void {
    if (this.#haltedAt >= 0 || !this.#ready) {
      // Reads already in flight when the chain halted: keep them, in order, for continueReading.
      if (data.length > 0) this.#backlog = this.#backlog === null ? Buffer.from(data) : Buffer.concat([this.#backlog, data]);
      if (endOfStream) this.#backlogEos = true;
      return;
    }
    this.#deliver(0, data, endOfStream);
  }

  /** Runs in the read loop when the filter at `index` called continueReading(). */
  continueFrom(index: number): void {
    if (this.#haltedAt !== index) {
      log.debug(`continueReading from filter ${index} ignored: chain not halted there`);
      return;
    }
    this.#haltedAt = -1;
    if (!this.#ready) {
      this.#initializeFrom(index + 1);
      if (this.#haltedAt >= 0 || !this.#ready) return;
    } else {
      const held = this.#held;
      const eos = this.#heldEos;
      this.#held = null;
      this.#heldEos = false;
      if (held !== null || eos) this.#deliver(index + 1, held ?? EMPTY, eos);
      if (this.#haltedAt >= 0) return;
    }
    const backlog = this.#backlog;
    const backlogEos = this.#backlogEos;
    this.#backlog = null;
    this.#backlogEos = false;
    if (backlog !== null || backlogEos) this.#deliver(0, backlog ?? EMPTY, backlogEos);
    if (this.#haltedAt < 0) this.#host.setChainHalted(false);
  }

  /** Supervision: tells every read filter that the connection's read loop crashed (see ReadFilter). */
  onActorCrash(error: unknown): void {
    for (const entry of this.#read) {
      try {
        entry.filter.onActorCrash?.(error);
      } catch (err) {
        log.error(`connection ${this.#host.connection.id}: a read filter threw while handling a crash`, err);
      }
    }
  }

  /** Runs the write filters; false when one of them took the bytes. */
  onWrite(data: Buffer): boolean {
    const filters = this.writeFilters;
    for (let i = 0; i < filters.length; i++) {
      if (filters[i]!.onWrite(data) === FilterStatus.Stop) return false;
    }
    return true;
  }

  #initializeFrom(start: number): void {
    const read = this.#read;
    for (let i = start; i < read.length; i++) {
      const entry = read[i]!;
      if (entry.initialized) continue;
      entry.initialized = true;
      if (entry.filter.onNewConnection() === FilterStatus.Stop) {
        this.#haltedAt = i;
        this.#host.setChainHalted(true);
        return;
      }
    }
    this.#ready = true;
    this.#host.chainReady();
  }

  #deliver(start: number, data: Buffer, endOfStream: boolean): void {
    const read = this.#read;
    const last = read.length - 1;
    for (let i = start; i <= last; i++) {
      if (read[i]!.filter.onData(data, endOfStream) === FilterStatus.Stop) {
        if (i === last) return; // terminal filter consumed it
        this.#haltedAt = i;
        if (data.length > 0) this.#held = Buffer.from(data);
        this.#heldEos = endOfStream;
        this.#host.setChainHalted(true);
        return;
      }
    }
  }
}
