/**
 * Entry point of one load thread: builds an engine from workerData, connects, waits for the main
 * thread's `go` so every thread starts its clock together, then reports progress and the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { protocolDrivers } from './drivers.js';
import { LoadEngine } from './engine.js';
import type { FromLoadThread, LoadThreadInit, ToLoadThread } from './messages.js';

const port = parentPort;
if (port === null) throw new Error('loadgen worker started outside a worker thread');
const post = (m: FromLoadThread): void => port.postMessage(m);

async function main(init: LoadThreadInit): Promise<void> {
  const engine = new LoadEngine(await protocolDrivers.require(init.spec.protocol)(), init);
  const connected = await engine.connect();
  post({ type: 'connected', ...connected });
  port!.on('message', (m: ToLoadThread) => {
    if (m.type === 'go') {
      const progress = setInterval(() => post({ type: 'progress', ...engine.progress() }), 250);
      void engine.run().then((result) => {
        clearInterval(progress);
        post({ type: 'done', result });
        port!.close();
      });
    } else if (m.type === 'stop') {
      engine.stop();
    }
  });
}

main(workerData as LoadThreadInit).catch((err: unknown) => {
  post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
});
