/**
 * The upstream of bench:drpc's proxy rows: a DomainSocketServer in its own process (so its CPU is
 * not the sidecar's) serving module 20, method 2001, which answers with the call's body. Prints
 * "ready" once listening; stops on SIGTERM.
 *
 *   node dist/bench/drpc-echo-server.js /path/to/upstream.sock
 */
import { DomainSocketServer, Module } from '../src/drpc/index.js';

const path = process.argv[2];
if (path === undefined) {
  console.error('usage: drpc-echo-server.js SOCKET_PATH');
  process.exit(2);
}
const server = new DomainSocketServer(path);
server.registerModule(new Module(20).method(2001, (body) => body));
server.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void server.shutdown().then(() => process.exit(0));
});
