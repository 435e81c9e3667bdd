/**
 * A registered service: an object's exported methods (names starting with an upper-case letter, as
 * Go's net/rpc requires) callable as "Service.Method", each `(args) → reply | Promise<reply>`.
 * Optional gob type hints per method say how to send the reply (and document the argument type on
 * the debug page); without one the reply's type is inferred.
 */
import { goTypeName, isExportedName, type GobType } from '../protocol/gob/index.js';

export type Method = (args: any) => unknown;

export interface MethodTypes {
  /** Shown on the debug page; decoding takes the type the client sent. */
  args?: GobType;
  /** How the reply is encoded on gob streams. */
  reply?: GobType;
}

export interface MethodEntry {
  readonly name: string;
  readonly fn: Method;
  readonly types: MethodTypes;
  numCalls: number;
}

export class Service {
  readonly methods = new Map<string, MethodEntry>();
  constructor(
    readonly name: string,
    receiver: object,
    types: Record<string, MethodTypes> = {},
  ) {
    for (const key of methodNames(receiver)) {
      const fn = (receiver as Record<string, unknown>)[key];
      if (typeof fn !== 'function' || !isExportedName(key)) continue;
      this.methods.set(key, { name: key, fn: (fn as Method).bind(receiver), types: types[key] ?? {}, numCalls: 0 });
    }
    for (const key of Object.keys(types)) {
      if (!this.methods.has(key)) throw new Error(`rpc: type hints for ${name}.${key}, which is not an exported method`);
    }
  }

  /** How the debug page spells a method: `Sum(Args, int) error`. */
  static signature(m: MethodEntry): string {
    const a = m.types.args === undefined ? 'any' : goTypeName(m.types.args);
    const r = m.types.reply === undefined ? 'any' : goTypeName(m.types.reply);
    return `${m.name}(${a}, *${r}) error`;
  }
}

/** Own function properties and those of every prototype up to (not including) Object.prototype. */
function methodNames(receiver: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = receiver; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) if (k !== 'constructor') names.add(k);
  }
  return [...names];
}
