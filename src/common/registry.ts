/**
 * One generic registry for every kind of extension (codecs, network filters, stream filters, load
 * balancers, invoker callbacks, channels). Registries are filled explicitly at the composition root
 * (src/extensions.ts), never by import side effects, so what a build contains can be read in one place.
 */
export class Registry<T> {
  readonly #kind: string;
  readonly #entries = new Map<string, T>();

  constructor(kind: string) {
    this.#kind = kind;
  }

  /** Called once per extension at start-up; a second registration under one name is a programming error. */
  register(name: string, entry: T): void {
    if (this.#entries.has(name)) throw new Error(`${this.#kind} "${name}" is already registered`);
    this.#entries.set(name, entry);
  }

  get(name: string): T | undefined {
    return this.#entries.get(name);
  }

  /** Like get, but throws an error that lists what is known — for config validation messages. */
  require(name: string): T {
    const entry = this.#entries.get(name);
    if (entry === undefined) {
      throw new Error(`unknown ${this.#kind} "${name}" (known: ${[...this.#entries.keys()].join(', ') || 'none'})`);
    }
    return entry;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  names(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * A copy to which one owner adds its own entries (a worker registers factories bound to its own
   * grpc-js server) without changing what others see.
   */
  fork(): Registry<T> {
    const copy = new Registry<T>(this.#kind);
    for (const [name, entry] of this.#entries) copy.register(name, entry);
    return copy;
  }
}
