/**
 * The calling thread's memory as /stats reports it (ThreadMemory): what a worker thread or the main
 * thread holds on its V8 heap, in V8's own mallocs and off-heap, so a process's RSS growth can be
 * told apart per thread and per kind (bench:footprint samples it idle and under load).
 */
import { getHeapStatistics } from 'node:v8';
import type { ThreadMemory } from '../types/messages.js';

export function threadMemory(): ThreadMemory {
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, malloced: getHeapStatistics().malloced_memory, external: m.external, arrayBuffers: m.arrayBuffers };
}
