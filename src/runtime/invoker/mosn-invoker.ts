/**
 * Layotto's mosn invoker: before_invoke callbacks → channel → after_invoke callbacks (these on a 2xx
 * answer only). The time a call may take: the caller's deadline when it set one (longer or shorter);
 * else the request's own timeout (Infinity for the Dapr APIs, which have no default); else the
 * config's `timeout` (Layotto's 3000 ms). Whatever goes wrong inside ends as a
 * RingsideError on the returned promise (INTERNAL for the unexpected), never as an exception that
 * could take the worker down.
 */
import { RingsideError, asRingsideError } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import type {
  AfterInvokeFilter,
  BeforeInvokeFilter,
  Channel,
  ChannelEnv,
  InvokerFilterRegistries,
  Invoker,
  RpcRequest,
  RpcResponse,
} from '../../types/runtime.js';
import type { MosnInvokerConfig } from '../../config/types.js';
import type { ChannelFactory } from '../channel/factory.js';
import type { ExtensionRegistry } from '../../types/extension.js';
import { RuntimeConfigError } from '../config.js';

const log = logger('runtime.invoker');

export class MosnInvoker implements Invoker {
  readonly #before: BeforeInvokeFilter[];
  readonly #after: AfterInvokeFilter[];
  readonly channel: Channel;
  readonly #defaultTimeoutMs: number;

  /** Validates the config once (unknown callbacks and channel protocols fail with their path). */
  constructor(
    config: MosnInvokerConfig,
    path: string,
    deps: { filters: InvokerFilterRegistries; channels: ExtensionRegistry<ChannelFactory>; env: ChannelEnv },
  ) {
    this.#defaultTimeoutMs = config.timeout;
    this.#before = config.before_invoke.map((cb, i) => {
      const p = `${path}.before_invoke[${i}]`;
      const factory = deps.filters.before.get(cb.name);
      if (factory === undefined) throw new RuntimeConfigError(`${p}.name`, `unknown before_invoke callback "${cb.name}" (known: ${deps.filters.before.names().join(', ')})`);
      return factory.create(cb.config, p);
    });
    this.#after = config.after_invoke.map((cb, i) => {
      const p = `${path}.after_invoke[${i}]`;
      const factory = deps.filters.after.get(cb.name);
      if (factory === undefined) throw new RuntimeConfigError(`${p}.name`, `unknown after_invoke callback "${cb.name}" (known: ${deps.filters.after.names().join(', ') || 'none'})`);
      return factory.create(cb.config, p);
    });
    // Layotto's mosn invoker calls channel[0] only; the loader warns about any other entry (src/config/filters.ts).
    const first = config.channel[0]!;
    const factory = deps.channels.get(first.protocol);
    if (factory === undefined) {
      throw new RuntimeConfigError(`${path}.channel[0].protocol`, `unknown channel protocol "${first.protocol}" (known: ${deps.channels.names().join(', ')})`);
    }
    this.channel = factory.create(first, `${path}.channel[0]`, deps.env);
  }

  invoke(req: RpcRequest): Promise<RpcResponse> {
    // One promise per call beyond the channel's: this runs for every call of the runtime API.
    try {
      let timeout = req.timeoutMs > 0 ? req.timeoutMs : this.#defaultTimeoutMs;
      if (req.deadline !== Infinity) {
        const left = req.deadline - Date.now();
        if (left <= 0) throw new RingsideError('TIMEOUT', 'downstream', 'the caller deadline passed before the invoke started');
        // The caller's deadline is what it asked for: it wins over the default, longer or shorter; a
        // resiliency timeout (req.timeoutMs) still ends the call earlier when it is shorter.
        timeout = req.timeoutMs > 0 ? Math.min(req.timeoutMs, left) : left;
      }
      for (const filter of this.#before) {
        const out = filter(req);
        if (out instanceof Error) throw out;
        req = out;
      }
      const sent = req;
      const answer = this.channel.invoke(sent, timeout);
      if (this.#after.length === 0) return answer.then(undefined, this.#onFailure);
      return answer.then((resp) => this.#afterInvoke(resp, sent)).then(undefined, this.#onFailure);
    } catch (err) {
      return Promise.reject(this.#fail(err));
    }
  }

  /** after_invoke callbacks, on a 2xx answer only. */
  #afterInvoke(resp: RpcResponse, req: RpcRequest): RpcResponse {
    if (resp.status < 200 || resp.status > 299) return resp;
    for (const filter of this.#after) {
      const out = filter(resp, req);
      if (out instanceof Error) throw out;
      resp = out;
    }
    return resp;
  }

  readonly #onFailure = (err: unknown): Promise<never> => Promise.reject(this.#fail(err));

  #fail(err: unknown): RingsideError {
    const e = asRingsideError(err);
    if (e.code === 'INTERNAL') log.error('invoke failed inside Ringside', err);
    else log.debug(`invoke failed: ${e.code} ${e.message}`);
    return e;
  }

  close(): void {
    this.channel.close();
  }
}
