#!/usr/bin/env node
// `npm run fuzz -- [--cases N] [--codec http1] [--seed S] [--save] [--proxy N]`: the codec fuzzer's
// local entry (the compiled test/fuzz/cli.ts; `npm run fuzz` builds first).
await import('../dist/test/fuzz/cli.js');
