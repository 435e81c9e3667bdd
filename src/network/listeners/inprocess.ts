/**
 * In-process listeners, addressed by name, accepting RingPipe ends (Layotto dialed its egress listener
 * through net.Pipe; Ringside's channel dials through a RingPipe).
 *
 *   same worker:  dial(name) ── createRingPipe ──▶ end 'b' accepted here, end 'a' returned to the dialer
 *   other worker: pipe.dial MeshMessage ──▶ acceptRemote(name, descriptor) ──▶ openRingEndpoint(…, 'b')
 *
 * The table is per worker; a name missing here is refused with a reason the dialer can log.
 */
import type { RingEndpoint, RingPipeDescriptor } from '../../types/ring.js';
import { logger } from '../../common/log.js';
import { ListenerBase } from './base.js';
import type { AcceptResult, ListenerSettings } from './base.js';
import { createRingPipe, openRingEndpoint } from './ring-api.js';

const log = logger('network');

export type PipeAcceptResult = { ok: true } | { ok: false; refused: string };

export class InProcessListener extends ListenerBase {
  readonly #table: InProcessListeners;
  readonly #names: string[];

  /** `names`: the listener's name and, when it differs, the bare-name address. */
  constructor(settings: ListenerSettings, table: InProcessListeners, names: string[]) {
    super(settings);
    this.#table = table;
    this.#names = names;
  }

  get address(): string {
    return this.#names[this.#names.length - 1]!;
  }

  async start(): Promise<void> {
    for (const n of this.#names) this.#table.register(n, this);
    this.accepting = true;
  }

  async stopAccepting(): Promise<void> {
    if (!this.accepting) return;
    this.accepting = false;
    for (const n of this.#names) this.#table.unregister(n, this);
    this.notifyClosed();
  }

  /** Wraps the endpoint in a Connection, or refuses it (draining, listener filter, limit). */
  acceptEndpoint(endpoint: RingEndpoint): AcceptResult {
    return this.acceptRing(endpoint);
  }
}

export class InProcessListeners {
  readonly #byName = new Map<string, InProcessListener>();

  register(name: string, listener: InProcessListener): void {
    const other = this.#byName.get(name);
    if (other !== undefined && other !== listener) throw new Error(`in-process listener "${name}" is already registered`);
    this.#byName.set(name, listener);
  }

  unregister(name: string, listener: InProcessListener): void {
    if (this.#byName.get(name) === listener) this.#byName.delete(name);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  /** Accepts an endpoint on listener `name`; a refused endpoint is reset so its peer learns at once. */
  accept(name: string, endpoint: RingEndpoint): PipeAcceptResult {
    const listener = this.#byName.get(name);
    const result: PipeAcceptResult =
      listener === undefined ? { ok: false, refused: `no in-process listener "${name}" on this worker` } : toPipeResult(listener.acceptEndpoint(endpoint));
    if (!result.ok) {
      log.debug(`in-process ${name}: refused pipe ${endpoint.pipeId}: ${result.refused}`);
      if (!endpoint.closed) endpoint.reset(result.refused);
    }
    return result;
  }

  /** The far end of a pipe dialed on another worker (a pipe.dial MeshMessage). */
  acceptRemote(name: string, descriptor: RingPipeDescriptor): PipeAcceptResult {
    if (!this.#byName.has(name)) return { ok: false, refused: `no in-process listener "${name}" on this worker` };
    return this.accept(name, openRingEndpoint(descriptor, 'b'));
  }

  /** Dials listener `name` on this worker; returns the dialer's end. Throws with the refusal reason. */
  dial(name: string): RingEndpoint {
    if (!this.#byName.has(name)) throw new Error(`no in-process listener "${name}" on this worker`);
    const { a, b } = createRingPipe();
    const r = this.accept(name, b);
    if (!r.ok) {
      if (!a.closed) a.reset(r.refused);
      throw new Error(r.refused);
    }
    return a;
  }
}

function toPipeResult(r: AcceptResult): PipeAcceptResult {
  return r.ok ? { ok: true } : r;
}
