/**
 * The network filter chain: onNewConnection / onData in order, Stop halts, continueReading resumes
 * with the held bytes going to the filters after the one that stopped; write filters see every write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { FilterStatus } from '../../src/types/network.js';
import type { ReadFilter, ReadFilterCallbacks, WriteFilter } from '../../src/types/network.js';
import { TcpListener } from '../../src/network/listeners/tcp-listener.js';
import { settings, waitFor, delay } from './helpers.js';

class Recorder implements ReadFilter {
  cb: ReadFilterCallbacks | null = null;
  constructor(
    readonly name: string,
    readonly log: string[],
    readonly onNew: FilterStatus,
    readonly onDataStatus: (data: string) => FilterStatus,
  ) {}
  initializeReadFilterCallbacks(cb: ReadFilterCallbacks): void {
    this.cb = cb;
  }
  onNewConnection(): FilterStatus {
    this.log.push(`${this.name}.new`);
    return this.onNew;
  }
  onData(data: Buffer, eos: boolean): FilterStatus {
    this.log.push(`${this.name}.data(${data.toString()}${eos ? ',eos' : ''})`);
    return this.onDataStatus(data.toString());
  }
}

test('Stop in onNewConnection halts later filters and reading until continueReading()', async () => {
  const log: string[] = [];
  let b: Recorder | null = null;
  const l = new TcpListener({
    ...settings('chain', [
      (_c, chain) => chain.addReadFilter(new Recorder('A', log, FilterStatus.Continue, () => FilterStatus.Continue)),
      (_c, chain) => chain.addReadFilter((b = new Recorder('B', log, FilterStatus.Stop, () => FilterStatus.Continue))),
      (_c, chain) => chain.addReadFilter(new Recorder('C', log, FilterStatus.Continue, () => FilterStatus.Stop)),
    ]),
    host: '127.0.0.1',
    port: 0,
  });
  await l.start();
  const s = net.connect(l.port, '127.0.0.1');
  await once(s, 'connect');
  s.write('x');
  await waitFor(() => log.length >= 2);
  await delay(30);
  assert.deepEqual(log, ['A.new', 'B.new'], 'C is not initialized and no byte is read while B holds the chain');
  b!.cb!.continueReading();
  await waitFor(() => log.length >= 6);
  assert.deepEqual(log, ['A.new', 'B.new', 'C.new', 'A.data(x)', 'B.data(x)', 'C.data(x)']);
  s.destroy();
  await l.stopAccepting();
  l.closeConnections('test over');
});

test('Stop in onData by a non-terminal filter holds the bytes; continueReading hands them on, in order', async () => {
  const log: string[] = [];
  let a: Recorder | null = null;
  let holdNext = true;
  const l = new TcpListener({
    ...settings('chain2', [
      (_c, chain) =>
        chain.addReadFilter(
          (a = new Recorder('A', log, FilterStatus.Continue, () => {
            if (!holdNext) return FilterStatus.Continue;
            holdNext = false;
            return FilterStatus.Stop;
          })),
        ),
      (_c, chain) => chain.addReadFilter(new Recorder('B', log, FilterStatus.Continue, () => FilterStatus.Stop)),
    ]),
    host: '127.0.0.1',
    port: 0,
  });
  await l.start();
  const s = net.connect(l.port, '127.0.0.1');
  await once(s, 'connect');
  s.write('one');
  await waitFor(() => log.includes('A.data(one)'));
  s.write('two'); // arrives while A holds the chain: must wait behind "one"
  await delay(40);
  assert.deepEqual(log, ['A.new', 'B.new', 'A.data(one)']);
  a!.cb!.continueReading();
  await waitFor(() => log.length >= 6);
  assert.deepEqual(log, ['A.new', 'B.new', 'A.data(one)', 'B.data(one)', 'A.data(two)', 'B.data(two)']);
  s.destroy();
  await l.stopAccepting();
  l.closeConnections('test over');
});

test('write filters see each write in order and Stop drops the bytes', async () => {
  const seen: string[] = [];
  const dropper: WriteFilter = {
    onWrite: (d) => (d.toString() === 'secret' ? FilterStatus.Stop : FilterStatus.Continue),
  };
  const recorder: WriteFilter = {
    onWrite: (d) => {
      seen.push(d.toString());
      return FilterStatus.Continue;
    },
  };
  const l = new TcpListener({
    ...settings('wf', [
      (conn, chain) => {
        chain.addWriteFilter(dropper);
        chain.addWriteFilter(recorder);
        chain.addReadFilter(new Recorder('R', [], FilterStatus.Continue, () => {
          conn.write(Buffer.from('a'));
          conn.write(Buffer.from('secret'));
          conn.write(Buffer.from('b'));
          return FilterStatus.Stop;
        }));
      },
    ]),
    host: '127.0.0.1',
    port: 0,
  });
  await l.start();
  const s = net.connect(l.port, '127.0.0.1');
  s.write('go');
  const [got] = (await once(s, 'data')) as [Buffer];
  assert.equal(got.toString(), 'ab');
  assert.deepEqual(seen, ['a', 'b']);
  s.destroy();
  await l.stopAccepting();
  l.closeConnections('test over');
});

test('a listener filter answering Stop refuses the connection before any filter chain runs', async () => {
  let chains = 0;
  const l = new TcpListener({
    ...settings('lf', [() => chains++], { listenerFilters: [{ onAccept: () => FilterStatus.Stop }] }),
    host: '127.0.0.1',
    port: 0,
  });
  await l.start();
  const s = net.connect(l.port, '127.0.0.1');
  s.on('error', () => {});
  await once(s, 'close');
  assert.equal(chains, 0);
  assert.equal(l.stats().rejectedConnections, 1);
  await l.stopAccepting();
});
