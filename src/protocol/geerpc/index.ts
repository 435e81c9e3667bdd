/** geerpc on the data plane (the proxy's `geerpc` codec). */
export { geerpcCodec } from './codec.js';
export { GEERPC, GeeRequest, GeeResponse, HEADER_METHOD, HEADER_SERVICE, splitServiceMethod, joinServiceMethod } from './frames.js';
export { GeeStatus, geeStatusName, geeStatusOfError, geeErrorText } from './status.js';
