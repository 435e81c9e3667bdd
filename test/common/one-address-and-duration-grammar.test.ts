/**
 * One address grammar and one duration grammar (src/common/address.ts, src/common/duration.ts) read
 * every address and duration Ringside takes: a value is accepted, or refused with its path, the same
 * way wherever it sits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitHostPort } from '../../src/common/address.js';
import { parseDuration as benchDuration } from '../../src/loadgen/options.js';
import { toHostPort } from '../../src/loadgen/tune/target.js';
import { createFaultFilterFactory } from '../../src/stream/filters/fault.js';
import { splitHostPort as adminHostPort } from '../../src/supervisor/admin.js';
import { assertIssue, baseConfig, configIssues, parse } from '../config/helpers.js';

test('a Layotto channel listener is read with the address grammar: a broken host:port is an exit-2 error at its path', () => {
  const cfg = baseConfig() as unknown as { servers: { listeners: unknown[] }[] };
  const channel = (listener: string) => ({
    name: 'grpc',
    address: '127.0.0.1:0',
    filter_chains: [{ filters: [{ type: 'grpc', config: { server_name: 'runtime', grpc_config: { rpcs: { mosn: { config: { channel: [{ protocol: 'http', listener, size: 1 }] } } } } } }] }],
  });
  cfg.servers[0]!.listeners.push(channel('127.0.0.1:99999'));
  const at = 'servers[0].listeners[2].filter_chains[0].filters[0].config.grpc_config.rpcs.mosn.config.channel[0].listener';
  assertIssue(configIssues(() => parse(cfg)), at, /port 99999 is out of range/);
  cfg.servers[0]!.listeners[2] = channel('[::1]:8080');
  parse(cfg); // a TCP channel target needs no listener of that name
});

test('bench flags, stream filters and the admin address read the same grammar', () => {
  assert.equal(benchDuration('duration', '1m30s'), 90_000);
  assert.equal(benchDuration('duration', '10'), 10_000); // a bare number of seconds, as before
  assert.throws(() => benchDuration('duration', '10 s'), /bad --duration/);
  // A stream filter's durations go through the config's one duration field.
  assert.doesNotThrow(() => createFaultFilterFactory().create({ delay: { fixed_delay: '1m30s', percentage: 1 } }, 'p'));
  assert.throws(() => createFaultFilterFactory().create({ delay: { fixed_delay: '-1s', percentage: 1 } }, 'p'), /p\.delay\.fixed_delay/);
  assert.deepEqual(adminHostPort('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(adminHostPort(':8080'), { host: undefined, port: 8080 });
  assert.throws(() => adminHostPort('127.0.0.1:http'), /admin address/);
  assert.equal(toHostPort('[::1]:8080'), '[::1]:8080');
  assert.equal(toHostPort('0.0.0.0:80'), '127.0.0.1:80');
  assert.equal(toHostPort('egress'), undefined);
});

test('splitHostPort reads the addresses Ringside formats for peers', () => {
  assert.deepEqual(splitHostPort('10.0.0.1:5000'), { host: '10.0.0.1', port: 5000 });
  assert.deepEqual(splitHostPort('[::1]:80'), { host: '::1', port: 80 });
  assert.deepEqual(splitHostPort('::ffff:10.0.0.1:5000'), { host: '::ffff:10.0.0.1', port: 5000 });
  for (const bad of ['egress', '1.2.3.4:', '1.2.3.4:99999', '[::1]80', 'h:8o']) assert.equal(splitHostPort(bad), undefined, bad);
});
