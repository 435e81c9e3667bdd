/**
 * The bolt upstream of bench:bolt: a sofa-rpc-node RpcServer (SOFARPC over bolt, hessian2) serving
 * com.example.Calc#plus on a free port, in its own process so its CPU stays out of the figures.
 * Prints "bolt server on PORT" when it listens.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const { RpcServer } = (require('sofa-rpc-node') as any).server;
const quiet = { info() {}, warn() {}, error: (...a: unknown[]) => console.error(...a), debug() {} };
const server = new RpcServer({ logger: quiet, port: 0 });
server.addService({ interfaceName: 'com.example.Calc' }, { async plus(a: number, b: number) { return a + b; } });
await server.start();
process.stdout.write(`bolt server on ${server._servers[0].address().port}\n`);
