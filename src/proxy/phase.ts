/**
 * The downstream phase machine's phases, in MOSN's order. The proxy drives one request through them
 * with a `switch` loop (src/proxy/downstream.ts); every transition is logged at debug and counted
 * (`proxy.phase.<Name>`), so where requests stop is visible in stats.
 *
 *   Init → DownFilter → MatchRoute → DownFilterAfterRoute → ChooseHost → DownFilterAfterChooseHost
 *        → DownRecvHeader → DownRecvData → DownRecvTrailer → (Oneway | WaitNotify)
 *        → UpFilter → UpRecvHeader → UpRecvData → UpRecvTrailer → End
 *   Retry re-enters ChooseHost (a fresh host, same request) when the retry policy allows it.
 */
export enum Phase {
  InitPhase = 0,
  DownFilter,
  MatchRoute,
  DownFilterAfterRoute,
  ChooseHost,
  DownFilterAfterChooseHost,
  DownRecvHeader,
  DownRecvData,
  DownRecvTrailer,
  Oneway,
  Retry,
  WaitNotify,
  UpFilter,
  UpRecvHeader,
  UpRecvData,
  UpRecvTrailer,
  End,
}

/** Name table, indexed by Phase, for logs and counters. */
export const phaseNames: readonly string[] = [
  'InitPhase',
  'DownFilter',
  'MatchRoute',
  'DownFilterAfterRoute',
  'ChooseHost',
  'DownFilterAfterChooseHost',
  'DownRecvHeader',
  'DownRecvData',
  'DownRecvTrailer',
  'Oneway',
  'Retry',
  'WaitNotify',
  'UpFilter',
  'UpRecvHeader',
  'UpRecvData',
  'UpRecvTrailer',
  'End',
];
