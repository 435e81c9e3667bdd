import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { fixturePath, runCli } from './fixtures/servers.js';

/** A port nothing listens on: bind, note the port, close. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  return lines[0]!;
}

describe('bench rejects bad input with one line and a non-zero exit', () => {
  it('an unreachable target', async () => {
    const r = await runCli(['bench', '-d', '1s', `http://127.0.0.1:${await deadPort()}/`]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(oneLine(r.stderr), /^ringside bench: cannot connect to 127\.0\.0\.1:\d+: ECONNREFUSED$/);
  });

  it('a proto that does not parse', async () => {
    const r = await runCli(['bench', '-p', 'grpc', '--proto', fixturePath('broken.proto'), '--call', 'x.Y/Z', 'http://127.0.0.1:1']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /^ringside bench: cannot load proto .*broken\.proto: /);
  });

  it('a method the proto does not have, and a streaming one', async () => {
    const proto = fixturePath('echo.proto');
    const missing = await runCli(['bench', '-p', 'grpc', '--proto', proto, '--call', 'loadtest.v1.Echo/Shout', 'http://127.0.0.1:1']);
    assert.equal(missing.code, 1);
    assert.match(oneLine(missing.stderr), /no method Shout in loadtest\.v1\.Echo \(methods: Say, Stream\)/);
    const streaming = await runCli(['bench', '-p', 'grpc', '--proto', proto, '--call', 'loadtest.v1.Echo/Stream', 'http://127.0.0.1:1']);
    assert.match(oneLine(streaming.stderr), /is streaming/);
  });

  it('a --message that is not JSON, or names a field the type lacks', async () => {
    const proto = fixturePath('echo.proto');
    const base = ['bench', '-p', 'grpc', '--proto', proto, '--call', 'loadtest.v1.Echo/Say'];
    const notJson = await runCli([...base, '--message', '{text: hi}', 'http://127.0.0.1:1']);
    assert.equal(notJson.code, 1);
    assert.match(oneLine(notJson.stderr), /^ringside bench: bad --message JSON: /);
    const unknown = await runCli([...base, '--message', '{"inner":{"nope":1}}', 'http://127.0.0.1:1']);
    assert.equal(unknown.code, 1);
    assert.match(oneLine(unknown.stderr), /unknown field "nope" in loadtest\.v1\.SayRequest\.inner/);
    const wrongType = await runCli([...base, '--message', '{"repeatCount":"many"}', 'http://127.0.0.1:1']);
    assert.equal(wrongType.code, 1);
    assert.match(oneLine(wrongType.stderr), /repeat_count: integer expected/);
  });

  it('bad flags and values exit 2', async () => {
    const unknownFlag = await runCli(['bench', '--frobnicate', 'http://127.0.0.1:1/']);
    assert.equal(unknownFlag.code, 2);
    const badDuration = await runCli(['bench', '-d', 'soon', 'http://127.0.0.1:1/']);
    assert.equal(badDuration.code, 2);
    assert.match(badDuration.stderr, /bad --duration "soon"/);
    const noTarget = await runCli(['bench']);
    assert.equal(noTarget.code, 2);
  });
});
