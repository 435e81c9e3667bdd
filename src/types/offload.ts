/**
 * The CPU-heavy tasks a filter may hand to the worker's offload pool (piscina threads) instead of
 * running them on the data-plane loop (MOSN's workerpool.Schedule). One member per task kind; every
 * task answers with bytes.
 */
export type OffloadTask =
  /** Compresses a body (an HTTP response the client accepts gzip for, a request toward an upstream). */
  | { kind: 'gzip'; data: Uint8Array; level?: number }
  /** Brotli-compresses a body; quality 0..11. */
  | { kind: 'brotli'; data: Uint8Array; quality?: number }
  /** Inflates a gzip body; maxOutput bounds the result so a zip bomb fails instead of eating memory. */
  | { kind: 'gunzip'; data: Uint8Array; maxOutput?: number }
  /** Decompresses a brotli body, bounded by maxOutput like gunzip. */
  | { kind: 'brotli.decompress'; data: Uint8Array; maxOutput?: number }
  /** Parses a JSON document and writes it back compact or indented (large JSON transcoding). */
  | { kind: 'json.reencode'; data: Uint8Array; indent?: number }
  /** A JSON call (`data`) to a dubbo invocation body for service id `id` (runtime dubbo channel). */
  | { kind: 'dubbo.encode_json'; data: Uint8Array; id: string; method: string; attachments: Record<string, string> }
  /** A dubbo response body to its outcome byte + JSON (runtime dubbo channel). */
  | { kind: 'dubbo.decode_json'; data: Uint8Array; status: number }
  /** A JSON call (`data`) to a bolt content (SofaRequest + arguments) for service id `id` (runtime bolt channels). */
  | { kind: 'bolt.encode_json'; data: Uint8Array; id: string; method: string; props: Record<string, string> }
  /** A bolt response's SofaResponse content to its outcome byte + JSON (runtime bolt channels). */
  | { kind: 'bolt.decode_json'; data: Uint8Array };

export interface OffloadRunOptions {
  /**
   * The caller gives the task's bytes away (a buffer only it holds): when they span their own
   * ArrayBuffer they move to the pool thread without a copy and are detached here. Otherwise, or
   * without `give`, the pool moves an exact copy.
   */
  readonly give?: boolean;
}

/** What a filter sees of the offload pool. */
export interface OffloadRunner {
  /** Runs the task on a pool thread (inline when the pool has 0 threads); settles with its bytes. */
  run(task: OffloadTask, opts?: OffloadRunOptions): Promise<Uint8Array>;
}
