/**
 * Every codec the fuzzer knows, by name. Adding a codec: write test/fuzz/targets/<name>.ts exporting a
 * FuzzTarget (seeds, dictionary, check() against a reference) and add it to this list — the CI test
 * (test/fuzz/codecs.test.ts), `npm run fuzz -- --codec <name>` and the fixtures folder pick it up.
 */
import type { FuzzTarget } from '../engine/target.js';
import { http1Target } from './http1.js';

export const fuzzTargets: readonly FuzzTarget[] = [http1Target];
