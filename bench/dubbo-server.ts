/**
 * The dubbo upstream of bench:dubbo: a sofa-rpc-node RpcServer speaking dubbo (dubbo-remoting,
 * hessian2) serving com.example.Calc:1.0.0#plus on a free port, in its own process so its CPU stays
 * out of the figures. Prints "dubbo server on PORT" when it listens.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const { RpcServer } = (require('sofa-rpc-node') as any).server;
const quiet = { info() {}, warn() {}, error: (...a: unknown[]) => console.error(...a), debug() {} };
const server = new RpcServer({ logger: quiet, port: 0, protocol: require('dubbo-remoting') });
server.addService({ interfaceName: 'com.example.Calc', version: '1.0.0' }, { async plus(a: number, b: number) { return a + b; } });
await server.start();
process.stdout.write(`dubbo server on ${server.publishPort}\n`);
