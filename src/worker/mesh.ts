/**
 * The worker's end of the mesh: MeshMessages to and from other workers, relayed by the supervisor.
 * Only placement travels here (a RingPipe's far end dialed onto another worker's in-process
 * listener); control calls go over comlink and data over the pipes' rings themselves.
 */
import type { MessagePort } from 'node:worker_threads';
import type { MeshMessage } from '../types/messages.js';
import type { RingPipeDescriptor } from '../types/ring.js';
import { logger } from '../common/log.js';
import { bump } from '../common/counters.js';

const log = logger('mesh');

export class MeshLink {
  readonly #self: number;
  readonly #port: MessagePort;
  readonly #refusals = new Map<number, (reason: string) => void>();
  #acceptRemote: (listener: string, descriptor: RingPipeDescriptor) => void;

  constructor(self: number, port: MessagePort, acceptRemote: (listener: string, descriptor: RingPipeDescriptor) => void) {
    this.#self = self;
    this.#port = port;
    this.#acceptRemote = acceptRemote;
    port.on('message', (msg: MeshMessage) => this.#receive(msg));
    // The mesh must not keep a draining worker alive by itself.
    port.unref();
  }

  /** Replaces the acceptor once the network is built (the link exists before it). */
  setAcceptor(acceptRemote: (listener: string, descriptor: RingPipeDescriptor) => void): void {
    this.#acceptRemote = acceptRemote;
  }

  /**
   * Called by an in-process dialer the scheduler sent elsewhere: asks worker `toWorker` to accept the
   * pipe's far end. `onRefused` runs if that worker cannot (the dialer then resets its end).
   */
  dial(toWorker: number, listener: string, descriptor: RingPipeDescriptor, onRefused: (reason: string) => void): void {
    this.#refusals.set(descriptor.pipeId, onRefused);
    bump('mesh.pipe_dial_sent');
    this.#post({ type: 'pipe.dial', fromWorker: this.#self, toWorker, listener, descriptor });
  }

  /** The dialer's pipe reached its far end or closed: forget its refusal callback. */
  settle(pipeId: number): void {
    this.#refusals.delete(pipeId);
  }

  #receive(msg: MeshMessage): void {
    switch (msg.type) {
      case 'pipe.dial':
        try {
          this.#acceptRemote(msg.listener, msg.descriptor);
          bump('mesh.pipe_accepted');
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          bump('mesh.pipe_refused');
          log.warn(`refused pipe ${msg.descriptor.pipeId} from worker/${msg.fromWorker} on "${msg.listener}": ${reason}`);
          this.#post({ type: 'pipe.refused', fromWorker: this.#self, toWorker: msg.fromWorker, pipeId: msg.descriptor.pipeId, reason });
        }
        return;
      case 'pipe.refused': {
        const cb = this.#refusals.get(msg.pipeId);
        this.#refusals.delete(msg.pipeId);
        cb?.(msg.reason);
        return;
      }
    }
  }

  #post(msg: MeshMessage): void {
    this.#port.postMessage(msg);
  }
}
