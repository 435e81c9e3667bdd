/**
 * Idle timeouts for every connection of a worker, from one coarse sweeper (see CoarseSweeper for why
 * not a timer per connection): activity is one store of `idleSweeper.now` into `lastActive`.
 */
import { CoarseSweeper } from '../../common/coarse-sweeper.js';

export interface Idleable {
  /** Coarse time (IdleSweeper.now) of the last read or write. */
  lastActive: number;
  readonly idleTimeoutMs: number;
  /** Called once when the timeout passed; the sweeper has already unregistered it. */
  onIdle(): void;
}

export class IdleSweeper extends CoarseSweeper<Idleable> {
  override add(member: Idleable): void {
    super.add(member);
    member.lastActive = this.now;
  }
  protected since(m: Idleable): number {
    return m.lastActive;
  }
  protected timeoutMs(m: Idleable): number {
    return m.idleTimeoutMs;
  }
  protected expire(m: Idleable): void {
    m.onIdle();
  }
}

/** One sweeper per thread: module state is per worker thread. */
export const idleSweeper = new IdleSweeper();
