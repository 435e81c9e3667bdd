/**
 * One generic registry for every kind of extension (codecs, network filters, stream filters, load
 * balancers, invoker callbacks, channels). Registries are filled explicitly at the composition root
 * (src/extensions.ts), never by import side effects, so what a build contains can be read in one place.
 * Each entry may carry the ConfigSpec of its `config`, which the main thread's loader validates with
 * before any worker starts.
 */
import type { ConfigSpec, ExtensionRegistry } from '../types/extension.js';

export class Registry<T> implements ExtensionRegistry<T> {
  readonly #kind: string;
  readonly #entries = new Map<string, T>();
  readonly #specs = new Map<string, ConfigSpec>();

  constructor(kind: string) {
    this.#kind = kind;
  }

  get kind(): string {
    return this.#kind;
  }

  /** Called once per extension at start-up; a second registration under one name is a programming error. */
  register<C>(name: string, entry: T, spec?: ConfigSpec<C>): void {
    if (this.#entries.has(name)) throw new Error(`${this.#kind} "${name}" is already registered`);
    this.#entries.set(name, entry);
    if (spec !== undefined) this.#specs.set(name, spec as ConfigSpec);
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

  spec(name: string): ConfigSpec | undefined {
    return this.#specs.get(name);
  }
}
