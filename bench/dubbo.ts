/**
 * bench:dubbo — Dubbo calls (hessian2) through Ringside's dubbo `proxy` listener next to HAProxy
 * `mode tcp` and Ringside's HTTP/1.1 proxy, one run, same load (bench/rpc-proxy.ts says how).
 *
 *   node dist/bench/dubbo.js [--json] [--seconds 8] [--connections 16]
 */
import { runMain } from './rpc-proxy.js';

runMain({ protocol: 'dubbo', server: 'dubbo-server.js', service: 'com.example.Calc', id: 'com.example.Calc:1.0.0' });
