/** Every Atomics.notify a ring waker sends: to a thread's doorbell (bells.ts) or an end's own (byte-ring.ts). */
import { counter } from '../common/counters.js';

export const ringNotifies = counter('ring.notifies');
