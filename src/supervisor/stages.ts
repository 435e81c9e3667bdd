/**
 * The supervisor's stages (MOSN's stage manager), in order:
 *
 *   Init ──▶ Start ──▶ Running ──▶ Drain ──▶ Stop
 *     │        │                                ▲
 *     └────────┴──── (start-up failure) ────────┘
 *
 * Init: config is loaded and validated, nothing spawned. Start: workers boot and bind. Running: every
 * listener accepts; crashed workers are respawned. Drain: no worker accepts; in-flight work finishes
 * up to the drain timeout. Stop: workers are gone; the process exits.
 */
import { logger } from '../common/log.js';

const log = logger('stage');

export enum Stage {
  Init = 0,
  Start,
  Running,
  Drain,
  Stop,
}

export const stageNames: Record<Stage, string> = {
  [Stage.Init]: 'init',
  [Stage.Start]: 'start',
  [Stage.Running]: 'running',
  [Stage.Drain]: 'drain',
  [Stage.Stop]: 'stop',
};

const allowed: Record<Stage, readonly Stage[]> = {
  [Stage.Init]: [Stage.Start, Stage.Stop],
  [Stage.Start]: [Stage.Running, Stage.Drain, Stage.Stop],
  [Stage.Running]: [Stage.Drain, Stage.Stop],
  [Stage.Drain]: [Stage.Stop],
  [Stage.Stop]: [],
};

export class StageManager {
  #stage = Stage.Init;
  readonly #listeners: ((stage: Stage, from: Stage) => void)[] = [];

  get stage(): Stage {
    return this.#stage;
  }

  get name(): string {
    return stageNames[this.#stage];
  }

  /** Moves to `next`; an edge not in the graph above is a programming error. */
  to(next: Stage): void {
    const from = this.#stage;
    if (!allowed[from].includes(next)) throw new Error(`illegal stage transition ${stageNames[from]} → ${stageNames[next]}`);
    this.#stage = next;
    log.info(`${stageNames[from]} → ${stageNames[next]}`);
    for (const l of this.#listeners) l(next, from);
  }

  /** Observers (admin /ready, tests); they never change the flow. */
  onTransition(listener: (stage: Stage, from: Stage) => void): void {
    this.#listeners.push(listener);
  }
}
