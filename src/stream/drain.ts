/**
 * The downstream stream connections of one worker, so a drain can tell each of them to go away
 * (HTTP/1.x: close between requests, Connection: close on the last response; GOAWAY for multiplexed
 * protocols once they land). One per worker, built at the composition root and handed to the proxy
 * filter; connections join when built and leave when closed (a Set add and delete per connection).
 */
import type { ServerStreamConnection } from '../types/stream.js';

export class DownstreamDrain {
  readonly #live = new Set<ServerStreamConnection>();
  #draining = false;

  get draining(): boolean {
    return this.#draining;
  }

  get size(): number {
    return this.#live.size;
  }

  /** A connection built during a drain is told at once. */
  add(connection: ServerStreamConnection): void {
    if (this.#draining) {
      connection.goAway();
      return;
    }
    this.#live.add(connection);
  }

  delete(connection: ServerStreamConnection): void {
    this.#live.delete(connection);
  }

  /** Tells every live connection to go away; idle ones close before this returns. */
  goAwayAll(): void {
    this.#draining = true;
    for (const c of [...this.#live]) c.goAway();
  }
}
