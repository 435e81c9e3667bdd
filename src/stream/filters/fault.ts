/**
 * `fault` stream filter: injects delays and aborts into requests, with MOSN/Envoy fault-injection
 * semantics — the delay (if drawn) runs first, then the abort (if drawn) answers with its status
 * instead of reaching the handler.
 *
 *   { "delay": { "fixed_delay": "10ms", "percentage": 50 }, "abort": { "status": 503, "percentage": 10 } }
 */
import { FilterStatus } from '../../types/network.js';
import type {
  StreamFilterChainFactory,
  StreamFilterFactory,
  StreamReceiverFilter,
  StreamReceiverFilterCallbacks,
} from '../../types/stream.js';
import { durationMsAt, objectAt, onlyKeys, percentageAt, StreamFilterConfigError } from './config.js';

export interface FaultConfig {
  delay: { ms: number; percentage: number } | null;
  abort: { status: number; percentage: number } | null;
}

export function parseFaultConfig(config: unknown, path: string): FaultConfig {
  const obj = objectAt(config, path);
  onlyKeys(obj, ['delay', 'abort'], path);
  let delay: FaultConfig['delay'] = null;
  let abort: FaultConfig['abort'] = null;
  if (obj.delay !== undefined) {
    const d = objectAt(obj.delay, `${path}.delay`);
    onlyKeys(d, ['fixed_delay', 'percentage'], `${path}.delay`);
    if (d.fixed_delay === undefined) throw new StreamFilterConfigError(`${path}.delay.fixed_delay`, 'required');
    delay = { ms: durationMsAt(d.fixed_delay, `${path}.delay.fixed_delay`), percentage: percentageAt(d.percentage, `${path}.delay.percentage`) };
  }
  if (obj.abort !== undefined) {
    const a = objectAt(obj.abort, `${path}.abort`);
    onlyKeys(a, ['status', 'percentage'], `${path}.abort`);
    const status = a.status;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
      throw new StreamFilterConfigError(`${path}.abort.status`, 'expected an HTTP status from 200 to 599');
    }
    abort = { status, percentage: percentageAt(a.percentage, `${path}.abort.percentage`) };
  }
  if (delay === null && abort === null) throw new StreamFilterConfigError(path, 'needs "delay", "abort" or both');
  return { delay, abort };
}

class FaultFilter implements StreamReceiverFilter {
  readonly #config: FaultConfig;
  readonly #random: () => number;
  #callbacks: StreamReceiverFilterCallbacks | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(config: FaultConfig, random: () => number) {
    this.#config = config;
    this.#random = random;
  }

  setReceiverCallbacks(callbacks: StreamReceiverFilterCallbacks): void {
    this.#callbacks = callbacks;
  }

  onReceiveHeaders(): FilterStatus {
    const { delay } = this.#config;
    if (delay !== null && this.#drawn(delay.percentage)) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        if (!this.#maybeAbort()) this.#callbacks!.continueDecoding();
      }, delay.ms);
      return FilterStatus.Stop;
    }
    return this.#maybeAbort() ? FilterStatus.Stop : FilterStatus.Continue;
  }

  onDestroy(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #maybeAbort(): boolean {
    const { abort } = this.#config;
    if (abort === null || !this.#drawn(abort.percentage)) return false;
    this.#callbacks!.sendLocalReply(abort.status, undefined, 'fault filter abort\n');
    return true;
  }

  #drawn(percentage: number): boolean {
    return percentage >= 100 || (percentage > 0 && this.#random() * 100 < percentage);
  }
}

/** The factory registered as "fault"; `random` is injectable so tests can pin the draws. */
export function createFaultFilterFactory(random: () => number = Math.random): StreamFilterFactory {
  return {
    create(config: unknown, path: string): StreamFilterChainFactory {
      const parsed = parseFaultConfig(config, path);
      return (_stream, chain) => chain.addReceiverFilter(new FaultFilter(parsed, random));
    },
  };
}
