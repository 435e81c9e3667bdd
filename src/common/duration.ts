/**
 * The one duration grammar of Ringside: MOSN/Envoy/Dapr write durations as Go strings ("1s", "500ms",
 * "1m30s"); hand-written configs often use plain numbers, read as milliseconds. The config schema,
 * stream filter parsers, `ringside registry --timeout` and the bench flags all read durations here.
 * (geerpc's wire format prints Go durations; that is src/geerpc/duration.ts, the other direction.)
 */
/** Milliseconds. Every duration in a normalized config is a number of milliseconds. */
export type Millis = number;

/** A parse result that carries a message instead of throwing, so callers can attach a JSON path. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const goDurationPart = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A number (ms, ≥ 0) or a Go duration string, as milliseconds. */
export function parseDuration(value: number | string): Parsed<Millis> {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return { ok: false, message: `duration must be a non-negative number of milliseconds, got ${value}` };
    return { ok: true, value };
  }
  const text = value.trim();
  // Go accepts a bare "0"; anything else needs a unit, and so does Ringside to avoid s/ms mix-ups.
  if (text === '0') return { ok: true, value: 0 };
  if (text === '') return { ok: false, message: 'invalid duration "": expected a number of milliseconds or a string like "1s"' };
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    goDurationPart.lastIndex = pos;
    const m = goDurationPart.exec(text);
    if (m === null) {
      return { ok: false, message: `invalid duration "${value}": expected a number of milliseconds or a string like "1s", "500ms", "1m30s"` };
    }
    total += Number(m[1]) * (unitMs[m[2] as string] as number);
    pos = goDurationPart.lastIndex;
  }
  return { ok: true, value: total };
}

