/**
 * End-of-turn flushing for socket connections: every connection written to during this event-loop
 * iteration is told to flush once, from one setImmediate, so all the writes one turn produced for a
 * connection — responses answered by different upstream reads, a pipelined batch, a stream's frames —
 * leave in ONE transport write. setImmediate runs in the same iteration's check phase, right after
 * the poll phase that delivered the reads, so a write is never held past the turn it was made in
 * (a write made from the check phase itself goes out in the next iteration's, with no poll wait in
 * between since an immediate is pending).
 */
import { logger } from '../../common/log.js';

const log = logger('network');

export interface TurnFlushed {
  /** Called once per turn in which the connection asked for it; it tells its write loop to flush. */
  flushTurn(): void;
}

const dirty: TurnFlushed[] = [];
let scheduled = false;

function runTurnFlush(): void {
  // Connections dirtied by a flush (an onDrain that writes) join this pass.
  for (let i = 0; i < dirty.length; i++) {
    try {
      dirty[i]!.flushTurn();
    } catch (err) {
      // A tell does not throw (the run loop supervises the actor); if one ever did, the others still flush.
      log.error('end-of-turn flush threw', err);
    }
  }
  dirty.length = 0;
  scheduled = false;
}

/** Flushes `c` at the end of this turn; call once per turn (the connection keeps its own flag). */
export function flushAtTurnEnd(c: TurnFlushed): void {
  dirty.push(c);
  if (!scheduled) {
    scheduled = true;
    setImmediate(runTurnFlush);
  }
}
