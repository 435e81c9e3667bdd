/**
 * The config layer's public surface: the supervisor loads a file (or the embedded default) once,
 * through the build's catalog (src/extensions.ts configCatalog()); network filter factories parse
 * their own raw config with the same specs.
 */
export { loadConfigFile, parseConfig, parseConfigText, defaultConfig, ConfigError, type ParseOptions } from './load.js';
export { defaultConfigJson, DEFAULT_CONFIG_SOURCE } from './default.js';
export { formatIssue, childPath } from './errors.js';
export { parseDuration, parseAddress } from './primitives.js';
export {
  grpcFilterSpec,
  proxyFilterSpec,
  tcpProxyFilterSpec,
  daprHttpFilterSpec,
  parseGrpcFilterConfig,
  parseProxyFilterConfig,
  parseTcpProxyFilterConfig,
  parseWithSpec,
  type ParsedFilterConfig,
} from './filters.js';
