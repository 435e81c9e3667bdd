/**
 * `fault` stream filter: injects delays and aborts into requests with MOSN's fault-injection
 * semantics — the delay (if drawn) runs first, then the abort (if drawn) answers with its status
 * instead of reaching the handler. A percentage that is absent or 0 never injects (MOSN's and
 * Envoy's default), which the loader warns about; `headers` limits faults to requests carrying
 * every listed header (exact value, or an anchored regex with `regex: true`), as MOSN's matcher.
 *
 *   { "delay": { "fixed_delay": "10ms", "percentage": 50 }, "abort": { "status": 503, "percentage": 10 },
 *     "headers": [{ "name": "x-chaos", "value": "on" }] }
 *
 * MOSN's `upstream_cluster` (faults only for requests routed to one cluster) is refused at load:
 * stream filters run before routing here, so it could not be honoured.
 */
import { z } from 'zod';
import { FilterStatus } from '../../types/network.js';
import type { ConfigKit, ConfigSpec } from '../../types/extension.js';
import type { HeaderMap, RequestFrame } from '../../types/protocol.js';
import type {
  StreamFilterChainFactory,
  StreamFilterFactory,
  StreamReceiverFilter,
  StreamReceiverFilterCallbacks,
} from '../../types/stream.js';
import { duration } from '../../config/primitives.js';
import { regexIssue } from '../../config/kit.js';
import { childPath } from '../../config/errors.js';
import { headerName, intIn, parseStreamFilterConfig, percentage } from './config.js';

function faultSchema(k: ConfigKit) {
  const header = k
    .obj({ name: headerName(), value: z.string(), regex: z.boolean().default(false) })
    .superRefine((h, ctx) => {
      const bad = h.regex ? regexIssue(h.value) : undefined;
      if (bad !== undefined) ctx.addIssue({ code: 'custom', message: bad, path: ['value'], input: h.value });
    });
  const fault = k
    .obj({
      delay: k.obj({ fixed_delay: duration(), percentage: percentage().optional() }).optional(),
      abort: k.obj({ status: intIn(200, 599), percentage: percentage().optional() }).optional(),
      headers: z.array(header).default([]),
    })
    .superRefine((f, ctx) => {
      if (f.delay === undefined && f.abort === undefined) ctx.addIssue({ code: 'custom', message: 'needs "delay", "abort" or both', input: f });
    });
  return z
    .unknown()
    .superRefine((raw, ctx) => {
      if (raw !== null && typeof raw === 'object' && 'upstream_cluster' in raw) {
        ctx.addIssue({
          code: 'custom',
          path: ['upstream_cluster'],
          input: (raw as Record<string, unknown>)['upstream_cluster'],
          message: 'not supported: stream filters run before routing, so a fault cannot be limited to one cluster; put the fault filter on a listener whose routes reach only that cluster',
        });
      }
    })
    .pipe(fault);
}

export type FaultConfig = z.output<ReturnType<typeof faultSchema>>;

/** MOSN draws nothing for an absent or zero percentage: warned, since it is rarely what was meant. */
function warnFault(f: FaultConfig, path: string): string[] {
  const out: string[] = [];
  if (f.delay !== undefined && f.delay.percentage === undefined) out.push(`${childPath(path, 'delay', 'percentage')}: absent: 0, so the delay is never injected (MOSN's default); set a percentage`);
  if (f.abort !== undefined && f.abort.percentage === undefined) out.push(`${childPath(path, 'abort', 'percentage')}: absent: 0, so the abort is never injected (MOSN's default); set a percentage`);
  return out;
}

export const faultFilterSpec: ConfigSpec<FaultConfig> = { schema: faultSchema, warn: warnFault };

/** What one configured entry injects, compiled once. */
interface CompiledFault {
  delay: { ms: number; percentage: number } | null;
  abort: { status: number; percentage: number } | null;
  headers: readonly { name: string; value: string; regex: RegExp | undefined }[];
}

function compile(cfg: FaultConfig): CompiledFault {
  return {
    delay: cfg.delay === undefined ? null : { ms: cfg.delay.fixed_delay, percentage: cfg.delay.percentage ?? 0 },
    abort: cfg.abort === undefined ? null : { status: cfg.abort.status, percentage: cfg.abort.percentage ?? 0 },
    headers: cfg.headers.map((h) => ({ name: h.name.toLowerCase(), value: h.value, regex: h.regex ? new RegExp(`^(?:${h.value})$`) : undefined })),
  };
}

function headersMatch(fault: CompiledFault, headers: HeaderMap): boolean {
  for (const h of fault.headers) {
    const v = headers.get(h.name);
    if (v === undefined) return false;
    if (h.regex === undefined ? v !== h.value : !h.regex.test(v)) return false;
  }
  return true;
}

class FaultFilter implements StreamReceiverFilter {
  readonly #config: CompiledFault;
  readonly #random: () => number;
  #callbacks: StreamReceiverFilterCallbacks | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(config: CompiledFault, random: () => number) {
    this.#config = config;
    this.#random = random;
  }

  setReceiverCallbacks(callbacks: StreamReceiverFilterCallbacks): void {
    this.#callbacks = callbacks;
  }

  onReceiveHeaders(request: RequestFrame): FilterStatus {
    if (!headersMatch(this.#config, request.headers)) return FilterStatus.Continue;
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
      const parsed = compile(parseStreamFilterConfig('fault', faultFilterSpec, config, path));
      return (_stream, chain) => chain.addReceiverFilter(new FaultFilter(parsed, random));
    },
  };
}
