/**
 * The load thread's latency recorder (values in µs). It imports nothing: a load thread starts with
 * only its driver and the engine loaded, and the HDR side (histogram.ts) runs on the main thread.
 *
 * Why not hdr-histogram-js here: it finds a value's bucket with Math.log2 and Math.pow and updates
 * min/max and the total on every record, about 1% of the load thread's cycles at 100k responses a
 * second, and loading it costs a fresh thread some 60 ms of CPU. LatencyRecorder keeps HDR's exact
 * layout (3 significant digits, lowest discernible value 1: 2,048 sub-buckets, the upper half of each
 * used above bucket 0) but finds the slot with Math.clz32 and counts into a typed array. At the end of
 * the run the occupied slots go to the main thread, which records each into an HDR histogram once with
 * its count, so merging and percentiles are hdr-histogram-js's own and identical to recording every
 * value there.
 */

/** What a load thread ships: each occupied slot's lowest value (µs) and its count. */
export interface RecordedLatencies {
  values: Float64Array;
  counts: Float64Array;
}

/** HDR's layout for 3 significant digits: 2,048 sub-buckets, the upper half of each used above bucket 0. */
const SUB_BUCKET_HALF_MAGNITUDE = 10;
const SUB_BUCKET_HALF_COUNT = 1 << SUB_BUCKET_HALF_MAGNITUDE;
/** Buckets kept: values below 2^(BUCKETS + 10) µs (2^43 µs, about 100 days); larger ones count in the last slot. */
const BUCKETS = 33;
const SLOTS = (BUCKETS + 1) * SUB_BUCKET_HALF_COUNT;
const TWO_POW_32 = 4294967296;
const MAX_VALUE = 2 ** (BUCKETS + SUB_BUCKET_HALF_MAGNITUDE) - 1;

export class LatencyRecorder {
  /** Float64: exact integer counts far beyond 2^32, and a fast typed-array increment. */
  readonly #counts = new Float64Array(SLOTS);
  #total = 0;
  // Exact extremes, as HDR keeps them (the report's min and max are values seen, not slot bounds).
  #min = Number.POSITIVE_INFINITY;
  #max = 0;

  get totalCount(): number {
    return this.#total;
  }

  /** Records one latency in µs (rounded to an integer; values below 1 count as 1). */
  record(us: number): void {
    let v = Math.round(us);
    if (!(v >= 1)) v = 1;
    let slot: number;
    if (v < TWO_POW_32) {
      // bucket = floor(log2 v) − 10 (bucket 0 below 2,048); slot = bucket·1024 + (v >> bucket).
      const bucket = 31 - Math.clz32(v) - SUB_BUCKET_HALF_MAGNITUDE;
      slot = bucket <= 0 ? v : (bucket << SUB_BUCKET_HALF_MAGNITUDE) + (v >>> bucket);
    } else {
      // Past 71 minutes: the slow path, never on a latency a load test produces in practice.
      if (v > MAX_VALUE) v = MAX_VALUE;
      slot = slotOf(v);
    }
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
    this.#counts[slot]++;
    this.#total++;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
    this.#min = Number.POSITIVE_INFINITY;
    this.#max = 0;
  }

  /**
   * The occupied slots, as a value each stands for and its count (what crosses to the main thread):
   * the slot's lowest value, except that the slots of the smallest and largest latency carry those
   * exact values, so the merged histogram's min and max are the ones seen.
   */
  export(): RecordedLatencies {
    const counts = this.#counts;
    const values: number[] = [];
    const ns: number[] = [];
    const minSlot = this.#total === 0 ? -1 : slotOf(this.#min);
    const maxSlot = this.#total === 0 ? -1 : slotOf(this.#max);
    for (let slot = 0; slot < SLOTS; slot++) {
      let n = counts[slot]!;
      if (n === 0) continue;
      if (slot === minSlot) {
        const atMin = slot === maxSlot && n > 1 ? n - 1 : n;
        values.push(this.#min);
        ns.push(atMin);
        n -= atMin;
        if (n === 0) continue;
      }
      values.push(slot === maxSlot ? this.#max : slotValue(slot));
      ns.push(n);
    }
    return { values: Float64Array.from(values), counts: Float64Array.from(ns) };
  }
}

/** The slot of an integer value ≥ 1 (the record path, for the two extremes). */
function slotOf(v: number): number {
  let bucket = Math.floor(Math.log2(v)) - SUB_BUCKET_HALF_MAGNITUDE;
  if (bucket < 0) bucket = 0;
  return bucket * SUB_BUCKET_HALF_COUNT + Math.floor(v / 2 ** bucket);
}

/** The lowest value of a slot: HDR's valueFromIndex for this layout. */
function slotValue(slot: number): number {
  const bucket = (slot >> SUB_BUCKET_HALF_MAGNITUDE) - 1;
  if (bucket <= 0) return slot;
  return ((slot & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT) * 2 ** bucket;
}

