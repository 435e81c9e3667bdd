/**
 * XClient: calls through a Discovery, one cached Client per server address (redialled when its
 * connection is gone).
 *   call      — one server chosen by the select mode;
 *   broadcast — every server in parallel; the first error cancels the calls still running and is
 *               what broadcast rejects with; otherwise the first reply is the result (Go fills the
 *               reply from whichever success lands first).
 */
import { Client, type CallOptions, type ClientOptions } from './client.js';
import type { Discovery, SelectMode } from './discovery.js';

export class XClient {
  readonly #clients = new Map<string, Promise<Client>>();

  constructor(
    readonly discovery: Discovery,
    readonly mode: SelectMode,
    readonly opts: ClientOptions = {},
  ) {}

  async call(serviceMethod: string, args: unknown, opts: CallOptions = {}): Promise<unknown> {
    const addr = await this.discovery.get(this.mode);
    return this.#callOn(addr, serviceMethod, args, opts);
  }

  async broadcast(serviceMethod: string, args: unknown, opts: CallOptions = {}): Promise<unknown> {
    const servers = await this.discovery.getAll();
    const cancel = new AbortController();
    const onAbort = (): void => cancel.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) cancel.abort();
    let firstError: unknown;
    let reply: unknown;
    let replied = false;
    try {
      await Promise.all(
        servers.map(async (addr) => {
          try {
            const v = await this.#callOn(addr, serviceMethod, args, { ...opts, signal: cancel.signal });
            if (!replied) {
              replied = true;
              reply = v;
            }
          } catch (err) {
            if (firstError === undefined) {
              firstError = err;
              cancel.abort();
            }
          }
        }),
      );
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (firstError !== undefined) throw firstError;
    return reply;
  }

  /** Closes every cached client. */
  async close(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(clients.map((p) => p.then((c) => c.close().catch(() => {}), () => {})));
    await this.discovery.close?.();
  }

  async #callOn(addr: string, serviceMethod: string, args: unknown, opts: CallOptions): Promise<unknown> {
    const client = await this.#dial(addr);
    return client.call(serviceMethod, args, opts);
  }

  /** One dial per address even when many calls start at once. */
  async #dial(addr: string): Promise<Client> {
    const cached = this.#clients.get(addr);
    if (cached !== undefined) {
      const c = await cached.catch(() => undefined);
      if (c?.isAvailable()) return c;
      if (this.#clients.get(addr) === cached) {
        this.#clients.delete(addr);
        c?.close().catch(() => {});
      }
      const again = this.#clients.get(addr);
      if (again !== undefined) return this.#dial(addr);
    }
    const p = Client.dial(addr, this.opts);
    this.#clients.set(addr, p);
    p.catch(() => {
      if (this.#clients.get(addr) === p) this.#clients.delete(addr);
    });
    return p;
  }
}
