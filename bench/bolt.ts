/**
 * bench:bolt — SOFARPC bolt calls through Ringside's bolt `proxy` listener next to HAProxy `mode tcp`
 * and Ringside's HTTP/1.1 proxy, one run, same load (bench/rpc-proxy.ts says how).
 *
 *   node dist/bench/bolt.js [--json] [--seconds 8] [--connections 16]
 */
import { runMain } from './rpc-proxy.js';

runMain({ protocol: 'bolt', server: 'bolt-server.js', service: 'com.example.Calc:1.0', id: 'com.example.Calc:1.0' });
