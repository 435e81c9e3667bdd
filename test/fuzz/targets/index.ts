/**
 * Every codec the fuzzer knows, by name. Adding a codec: write test/fuzz/targets/<name>.ts exporting a
 * FuzzTarget (seeds, dictionary, check() against a reference) and add it to this list — the CI test
 * (test/fuzz/codecs.test.ts), `npm run fuzz -- --codec <name>` and the fixtures folder pick it up.
 */
import type { FuzzTarget } from '../engine/target.js';
import { boltTarget } from './bolt.js';
import { drpcTarget } from './drpc.js';
import { dubboTarget } from './dubbo.js';
import { gobTarget } from './gob.js';
import { http1Target } from './http1.js';
import { http1ResponseTarget } from './http1-response.js';
import { http2Target } from './http2.js';

export const fuzzTargets: readonly FuzzTarget[] = [http1Target, http1ResponseTarget, http2Target, boltTarget, dubboTarget, drpcTarget, gobTarget];
