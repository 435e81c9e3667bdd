/**
 * Observability interfaces: the log settings every thread shares and the metrics recorder the other
 * layers call. Implementations live in src/common/log.ts and src/observability/.
 */

/** pino's levels plus `silent`, as RINGSIDE_LOG accepts them. */
export type ThreadLogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** What a thread needs to log like every other thread of the process (handed to workers at boot). */
export interface LogSettings {
  readonly level: ThreadLogLevel;
  readonly format: 'json' | 'pretty';
  /** pino-pretty colours; only when the process' stderr is a terminal. */
  readonly colorize: boolean;
}
