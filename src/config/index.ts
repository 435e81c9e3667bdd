/**
 * The config layer's public surface: the supervisor loads a file (or the embedded default) once;
 * network filter factories re-validate their own raw config with the parse functions.
 */
export { loadConfigFile, parseConfig, parseConfigText, defaultConfig, ConfigError, type ParseOptions } from './load.js';
export { defaultConfigJson, DEFAULT_CONFIG_SOURCE } from './default.js';
export { formatIssue, childPath } from './errors.js';
export { parseDuration, parseAddress } from './primitives.js';
export {
  grpcFilterConfigSchema,
  proxyFilterConfigSchema,
  tcpProxyFilterConfigSchema,
  parseGrpcFilterConfig,
  parseProxyFilterConfig,
  parseTcpProxyFilterConfig,
  type ParsedFilterConfig,
} from './filters.js';
export { LB_TYPES, CLUSTER_TYPES } from './schema.js';
