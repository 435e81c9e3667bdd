/**
 * `ringside/drpc`: DAOS-compatible dRPC over Unix SOCK_SEQPACKET sockets — a server of modules and
 * methods by id, a client, the chunk framing and the envelope messages.
 */
export { DomainSocketServer, Module, DrpcFailure, DEFAULT_SOCKET_MODE, DEFAULT_MAX_MESSAGE_BYTES } from './server.js';
export type { CallContext, CallCancel, SessionInfo, MethodHandler, DomainSocketServerOptions, DomainSocketServerStats } from './server.js';
export { ClientConnection, DrpcClientError, DEFAULT_CALL_TIMEOUT_MS } from './client.js';
export type { ClientConnectionOptions, CallInput } from './client.js';
export { Status, MODULE_METHOD_OFFSET, methodIdRange, checkIds, encodeCall, decodeCall, encodeResponse, decodeResponse, CallType, ResponseType, RpcStatusType, encodeRpcStatus, decodeRpcStatus } from './messages.js';
export type { Call, Response } from './messages.js';
export { ChunkAssembler, FramingError, toPackets, chunkCount, readHeader, writeHeader, HEADER_BYTES, MAX_PACKET_BYTES, MAX_CHUNK_DATA_BYTES } from './framing.js';
export { SocketFileInUseError } from './sockets.js';
