/**
 * Dialing an in-process listener by name (what a Layotto channel does to reach
 * `egress_runtime_http`), with the scheduler choosing the worker:
 *
 *   dial(name) ─ scheduler.placeInProcess() ─┬─ this worker: network.dialInProcess(name) (no hop)
 *                                             └─ worker v: new pipe descriptor, end 'a' opened here,
 *                                                pipe.dial MeshMessage → v opens end 'b' on its listener
 *
 * A refusal (no such listener there, draining, worker down) comes back as pipe.refused and resets
 * our end with the reason, so the channel sees an ordinary closed connection and can retry.
 */
import type { RingEndpoint } from '../types/ring.js';
import type { PlacementAdvisor } from '../types/actor.js';
import { createRingPipeDescriptor, openRingEndpoint } from '../ring/index.js';
import type { Scheduler } from '../actor/scheduler.js';
import type { MeshLink } from './mesh.js';

/** A refusal, when there is one, arrives within milliseconds; after this we stop waiting for it. */
const refusalWindowMs = 30_000;

export class InProcessDialer implements PlacementAdvisor {
  readonly #scheduler: Scheduler;
  /** Where each dialed end's peer runs; weak, so a closed connection is simply forgotten. */
  readonly #placedOn = new WeakMap<RingEndpoint, number>();
  readonly #mesh: MeshLink;
  readonly #local: (name: string) => RingEndpoint;

  constructor(scheduler: Scheduler, mesh: MeshLink, local: (name: string) => RingEndpoint) {
    this.#scheduler = scheduler;
    this.#mesh = mesh;
    this.#local = local;
  }

  /** Called per new in-process connection; throws when this worker has no such listener. */
  dial(name: string): RingEndpoint {
    const placement = this.#scheduler.placeInProcess();
    if (placement.worker === this.#scheduler.workerIndex) {
      const local = this.#local(name);
      this.#placedOn.set(local, placement.worker);
      return local;
    }
    const descriptor = createRingPipeDescriptor();
    const end = openRingEndpoint(descriptor, 'a');
    const target = placement.worker;
    this.#placedOn.set(end, target);
    this.#mesh.dial(target, name, descriptor, (reason) => {
      if (!end.closed) end.reset(`worker/${target} refused "${name}": ${reason}`);
    });
    setTimeout(() => this.#mesh.settle(descriptor.pipeId), refusalWindowMs).unref();
    return end;
  }

  /** PlacementAdvisor: asks the scheduler whether this end's far side should run elsewhere now. */
  shouldRetire(endpoint: RingEndpoint): boolean {
    const placedOn = this.#placedOn.get(endpoint);
    return placedOn !== undefined && this.#scheduler.shouldRetire(placedOn);
  }
}
