/**
 * The header map of an X-protocol frame: the usual flat HeaderMap, plus a `dirty` mark set by any
 * edit, so an encoder re-serializes the header section only when a route or filter changed it and
 * otherwise sends the bytes it received.
 */
import { Headers } from '../headers.js';

export class XHeaders extends Headers {
  /** Set by set/add/remove: the decoded header bytes no longer describe this map. */
  dirty = false;

  override set(name: string, value: string): void {
    this.dirty = true;
    super.set(name, value);
  }

  override add(name: string, value: string): void {
    this.dirty = true;
    super.add(name, value);
  }

  override remove(name: string): boolean {
    const removed = super.remove(name);
    if (removed) this.dirty = true;
    return removed;
  }
}
