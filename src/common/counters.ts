/**
 * Per-thread counters ("proxy.phase.MatchRoute", "upstream.cx_connect_fail", ...). Each worker owns
 * its own table, so increments are plain property writes with no synchronisation; the supervisor
 * collects the tables through WorkerControl.stats() and sums them.
 */
const table = new Map<string, number>();

/** A counter handle: resolve the name once, then increment on the hot path without a map lookup. */
export class Counter {
  value = 0;
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
  inc(by = 1): void {
    this.value += by;
  }
}

const handles = new Map<string, Counter>();

export function counter(name: string): Counter {
  let c = handles.get(name);
  if (c === undefined) {
    c = new Counter(name);
    handles.set(name, c);
  }
  return c;
}

/** For rare events where holding a handle is not worth it. */
export function bump(name: string, by = 1): void {
  table.set(name, (table.get(name) ?? 0) + by);
}

export function snapshotCounters(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of table) out[k] = v;
  for (const c of handles.values()) if (c.value !== 0) out[c.name] = (out[c.name] ?? 0) + c.value;
  return out;
}
