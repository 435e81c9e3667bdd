/**
 * What a channel protocol registers by name ("http", "dubbo", …): a factory that builds a Channel from
 * one validated `channel[]` entry. Kept beside the channels rather than in src/types because the entry's
 * type is the config schema's output (src/config/types.ts), the one place its shape is written.
 */
import type { ChannelConfig } from '../../config/types.js';
import type { Channel, ChannelEnv } from '../../types/runtime.js';

export type { ChannelConfig };

/** Registered by protocol name; `path` is the JSON path of the entry, for error messages. */
export interface ChannelFactory {
  create(config: ChannelConfig, path: string, env: ChannelEnv): Channel;
}
