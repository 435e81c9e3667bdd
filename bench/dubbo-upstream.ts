/**
 * The dubbo upstream of bench:dubbo, in its own process so its CPU stays out of the figures: a
 * sofa-rpc-node RpcServer on dubbo-remoting serving com.example.Calc:1.0.0 `plus`. Prints
 * `dubbo upstream on PORT` once listening.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { RpcServer } = (require('sofa-rpc-node') as { server: { RpcServer: new (o: object) => { addService(i: object, impl: object): void; start(): Promise<void>; publishPort: number } } }).server;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const server = new RpcServer({ logger: quiet, port: 0, protocol: require('dubbo-remoting') });
server.addService({ interfaceName: 'com.example.Calc', version: '1.0.0' }, { plus: async (a: number, b: number) => a + b });
await server.start();
process.stdout.write(`dubbo upstream on ${server.publishPort}\n`);
