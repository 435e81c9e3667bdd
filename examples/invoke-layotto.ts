/**
 * The walk-through's call against a running Ringside (`npm start`): Layotto's InvokeService from a
 * grpc-js client built from Ringside's copy of Layotto's proto.
 *   node dist/examples/invoke-layotto.js [host:port]
 */
import * as grpc from '@grpc/grpc-js';
import { LAYOTTO_SERVICE, serviceDefinition } from '../src/runtime/proto.js';

const Runtime = grpc.makeGenericClientConstructor(serviceDefinition(LAYOTTO_SERVICE), 'Runtime');
const client = new Runtime(process.argv[2] ?? '127.0.0.1:34904', grpc.credentials.createInsecure());
const request = {
  id: 'org.apache.dubbo.samples.UserProvider',
  message: {
    method: 'GetUser',
    data: { value: Buffer.from('{"jsonrpc":"2.0","method":"GetUser","params":["A003"],"id":9527}') },
    http_extension: { verb: 3 /* POST */ },
  },
};
(client as unknown as Record<string, (r: object, cb: (e: grpc.ServiceError | null, r?: { data: { value: Uint8Array } }) => void) => void>)
  .InvokeService!.call(client, request, (err, res) => {
    if (err) console.error(`InvokeService failed: ${grpc.status[err.code]} ${err.details}`);
    else console.log(Buffer.from(res!.data.value).toString());
    client.close();
  });
