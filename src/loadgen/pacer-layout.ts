/** Indices of the memory shared by a load thread and its open-loop clock (pacer.ts, pacer-clock.ts). */
/** Int32: bumped by the load thread each time it sets a new deadline. */
export const SEQ = 0;
/** Int32: bumped by the clock each time a deadline passes. */
export const WAKE = 1;
/** Int32: non-zero ends the clock thread. */
export const STOP = 2;
export const CONTROL_INTS = 3;
/** Float64: the deadline in epoch ms (performance.timeOrigin + performance.now()), +Infinity = none. */
export const FIRE_AT = 0;
