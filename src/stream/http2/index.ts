export { createHttp2ServerStreamConnection } from './server-connection.js';
export { Http2ClientFactory, type Http2ClientFactoryOptions } from './client.js';
