/**
 * The geerpc walk-through's Foo service: Foo.Sum(Args{Num1, Num2 int}) → Num1 + Num2 and
 * Foo.Sleep, which waits Num1 seconds first.
 *   node dist/examples/geerpc-foo.js --listen tcp@127.0.0.1:0 [--registry http://HOST:PORT/_geerpc_/registry]
 * --listen takes tcp@host:port, http@host:port, unix@path or a bare host:port (tcp). With
 * --registry it heartbeats its address there. It prints one ready line once it is listening.
 */
import { parseArgs } from 'node:util';
import { Server, startHeartbeat, gob } from '../src/geerpc/index.js';

interface Args {
  Num1: number;
  Num2: number;
}
const ArgsType = gob.struct('Args', { Num1: gob.int, Num2: gob.int });

class Foo {
  Sum(args: Args): number {
    return args.Num1 + args.Num2;
  }

  async Sleep(args: Args): Promise<number> {
    await new Promise((r) => setTimeout(r, args.Num1 * 1000));
    return args.Num1 + args.Num2;
  }
}

const { values } = parseArgs({ options: { listen: { type: 'string', default: 'tcp@127.0.0.1:0' }, registry: { type: 'string' } } });
const listen = values.listen.includes('@') ? values.listen : `tcp@${values.listen}`;
const server = new Server();
server.register(new Foo(), { types: { Sum: { args: ArgsType, reply: gob.int }, Sleep: { args: ArgsType, reply: gob.int } } });
const l = await server.listen(listen);
const heartbeat = values.registry === undefined ? undefined : startHeartbeat(values.registry, l.addr);
process.stdout.write(`geerpc Foo serving Foo.Sum, Foo.Sleep on ${l.addr}${values.registry === undefined ? '' : ` (heartbeat to ${values.registry})`}\n`);
const stop = async (): Promise<void> => {
  heartbeat?.stop();
  await server.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
