/**
 * Live progress on stderr, only when stderr is a terminal: piped and CI output stays clean.
 */
import cliProgress from 'cli-progress';
import type { Progress } from './runner.js';

export interface ProgressDisplay {
  update(p: Progress): void;
  stop(): void;
}

const silent: ProgressDisplay = { update: () => {}, stop: () => {} };

/** `total` is the measured duration in ms, or the request count for -n runs. */
export function progressDisplay(label: string, total: { durationMs?: number; requests?: number }): ProgressDisplay {
  if (process.stderr.isTTY !== true) return silent;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} |{bar}| {elapsed_s}s  {phase}{requests} req  {rate} req/s  {errors} err`,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  const byRequests = total.requests !== undefined;
  bar.start(byRequests ? total.requests! : Math.max(1, Math.round((total.durationMs ?? 0) / 100)), 0, { elapsed_s: '0.0', phase: '', requests: 0, rate: 0, errors: 0 });
  return {
    // The figures are the final report's (measured window, requests over its length), so the last
    // line shown and the report agree; a rate between two thread messages would not.
    update(p) {
      bar.update(byRequests ? p.requests : Math.round(p.elapsedMs / 100), {
        elapsed_s: (p.elapsedMs / 1000).toFixed(1),
        phase: p.measuredMs === 0 ? 'warm-up  ' : '',
        requests: p.requests,
        rate: Math.round(p.rps),
        errors: p.errors,
      });
    },
    stop() {
      bar.stop();
    },
  };
}
