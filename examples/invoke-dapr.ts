/**
 * The same call through Dapr's API with the official Dapr JS SDK, unchanged, over gRPC and over HTTP.
 * The app id is the service id and GetUser the method.
 *   node dist/examples/invoke-dapr.js   (DAPR_GRPC_PORT / DAPR_HTTP_PORT / DAPR_API_TOKEN as for Dapr)
 */
import { CommunicationProtocolEnum, DaprClient, HttpMethod, LogLevel } from '@dapr/dapr';

const params = { jsonrpc: '2.0', method: 'GetUser', params: ['A003'], id: 9527 };
for (const [protocol, port] of [
  [CommunicationProtocolEnum.GRPC, process.env['DAPR_GRPC_PORT'] ?? '50001'],
  [CommunicationProtocolEnum.HTTP, process.env['DAPR_HTTP_PORT'] ?? '3500'],
] as const) {
  const client = new DaprClient({ daprHost: '127.0.0.1', daprPort: port, communicationProtocol: protocol, logger: { level: LogLevel.Error } });
  const answer = await client.invoker.invoke('org.apache.dubbo.samples.UserProvider', 'GetUser', HttpMethod.POST, params);
  console.log(protocol === CommunicationProtocolEnum.GRPC ? 'grpc:' : 'http:', JSON.stringify(answer));
  await client.stop();
}
