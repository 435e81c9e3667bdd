/**
 * Node's stream_wrap binding: the door to a libuv stream handle's own writeBuffer / writev, which the
 * proxy's socket wire and the load generator's writer use to skip stream.Writable on their hot paths.
 * process.binding is the only public way to reach it (it warns only under --pending-deprecation);
 * where it is missing, callers fall back to socket.write.
 */

/** The part of the binding a direct handle write needs; `Req` is the caller's view of a WriteWrap. */
export interface StreamWrapBinding<Req> {
  WriteWrap: new () => Req;
  /** Set by the last handle write: kLastWriteWasAsync is non-zero when libuv kept the request. */
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

let loaded: StreamWrapBinding<unknown> | null | undefined;

/** The binding, or null when this runtime does not expose it. */
export function streamWrapBinding<Req>(): StreamWrapBinding<Req> | null {
  if (loaded === undefined) {
    loaded = null;
    try {
      const b = (process as unknown as { binding(name: string): Partial<StreamWrapBinding<unknown>> }).binding('stream_wrap');
      if (typeof b.WriteWrap === 'function' && b.streamBaseState instanceof Int32Array && typeof b.kLastWriteWasAsync === 'number') {
        loaded = b as StreamWrapBinding<unknown>;
      }
    } catch {
      // Not available in this runtime.
    }
  }
  return loaded as StreamWrapBinding<Req> | null;
}
