/**
 * The downstream stream connections of one worker, so a drain can tell each of them to go away
 * (HTTP/1.x: close between requests, Connection: close on the last response; GOAWAY for multiplexed
 * protocols once they land). One per worker, built at the composition root and handed to the proxy
 * filter; connections join when built and leave when closed (a Set add and delete per connection).
 */
import type { ServerStreamConnection } from '../types/stream.js';

export class DownstreamDrain {
  readonly #live = new Set<ServerStreamConnection>();
  /** Per-listener scopes: a reload retires one listener's connections, a drain reaches them all. */
  readonly #scopes = new Set<DownstreamDrain>();
  #parent: DownstreamDrain | null = null;
  #draining = false;

  /** A scope for one listener: its goAwayAll reaches only its connections; the parent's reaches it too. */
  scope(): DownstreamDrain {
    const s = new DownstreamDrain();
    s.#parent = this;
    this.#scopes.add(s);
    if (this.#draining) s.goAwayAll();
    return s;
  }

  /** Detaches a scope whose listener is gone. */
  release(): void {
    if (this.#parent !== null) this.#parent.#scopes.delete(this);
    this.#parent = null;
  }

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
    for (const s of [...this.#scopes]) s.goAwayAll();
  }
}
