/**
 * A sofa-rpc-node RpcServer speaking dubbo (dubbo-remoting) on 127.0.0.1:0 with the test services,
 * and a sofa-rpc-node dubbo client: the real Node.js Dubbo peers.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const sofa = require('sofa-rpc-node') as {
  server: { RpcServer: new (opts: object) => SofaServer };
  client: { RpcClient: new (opts: object) => SofaClient };
};
export const dubboProtocol = require('dubbo-remoting') as object;

interface SofaServer {
  addService(info: { interfaceName: string; version?: string; group?: string }, impl: Record<string, (...args: any[]) => unknown>): void;
  start(): Promise<void>;
  close(): Promise<void>;
  publishPort: number;
}
interface SofaConsumer {
  ready(): Promise<void>;
  invoke(method: string, args: unknown[], opts?: { responseTimeout?: number }): Promise<unknown>;
}
interface SofaClient {
  createConsumer(opts: { interfaceName: string; version?: string; serverHost?: string; group?: string }): SofaConsumer;
  close(): Promise<void>;
}

export const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };

export interface DubboServer {
  readonly port: number;
  readonly address: string;
  /** Calls each method received (oneway calls included). */
  readonly calls: Map<string, number>;
  close(): Promise<void>;
}

/** com.example.Calc:1.0.0 with plus, concat, echo, sleep (ms) and fail. */
export async function startDubboServer(): Promise<DubboServer> {
  const server = new sofa.server.RpcServer({ logger: silentLogger, port: 0, protocol: dubboProtocol });
  const calls = new Map<string, number>();
  const count = (m: string) => calls.set(m, (calls.get(m) ?? 0) + 1);
  server.addService(
    { interfaceName: 'com.example.Calc', version: '1.0.0' },
    {
      async plus(a: number, b: number) {
        count('plus');
        return a + b;
      },
      async concat(a: unknown, b: unknown) {
        count('concat');
        return `${String(a)}${String(b)}`;
      },
      async echo(v: unknown) {
        count('echo');
        return v;
      },
      async sleep(ms: number) {
        count('sleep');
        await new Promise((r) => setTimeout(r, ms));
        return ms;
      },
      async fail() {
        count('fail');
        throw new Error('calculator is broken');
      },
    },
  );
  await server.start();
  const port = server.publishPort;
  return { port, address: `127.0.0.1:${port}`, calls, close: () => server.close() };
}

/** A sofa-rpc-node consumer of com.example.Calc:1.0.0 over dubbo at `address` (host:port). */
export async function dubboConsumer(address: string): Promise<{ invoke: SofaConsumer['invoke']; close(): Promise<void> }> {
  const client = new sofa.client.RpcClient({ logger: silentLogger, protocol: dubboProtocol });
  const consumer = client.createConsumer({ interfaceName: 'com.example.Calc', version: '1.0.0', serverHost: address });
  await consumer.ready();
  return { invoke: (m, a, o) => consumer.invoke(m, a, o), close: () => client.close() };
}
