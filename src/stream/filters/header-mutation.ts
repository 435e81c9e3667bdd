/**
 * `header_mutation` stream filter: edits request headers before the handler sees them and response
 * headers before they are encoded. Within each side, removals apply first, then `set` (replace),
 * then `add` (append), so one config can rename a header by removing it and adding another.
 *
 *   { "request":  { "remove": ["x-debug"], "set": { "x-env": "prod" }, "add": { "via": "ringside" } },
 *     "response": { "set": { "server": "ringside" } } }
 */
import { z } from 'zod';
import { FilterStatus } from '../../types/network.js';
import type { ConfigKit, ConfigSpec } from '../../types/extension.js';
import type { HeaderMap, RequestFrame, ResponseFrame } from '../../types/protocol.js';
import type {
  StreamFilterChainFactory,
  StreamFilterFactory,
  StreamReceiverFilter,
  StreamSenderFilter,
} from '../../types/stream.js';
import { headerName, headerValue, isHeaderName, parseStreamFilterConfig } from './config.js';

function headerMutationSchema(k: ConfigKit) {
  const pairs = z
    .record(z.string(), headerValue())
    .superRefine((r, ctx) => {
      for (const name of Object.keys(r)) {
        if (!isHeaderName(name)) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(name)} is not a valid header name`, path: [name], input: name });
      }
    })
    .default({})
    .transform((r) => Object.entries(r));
  const edits = k.obj({ remove: z.array(headerName()).default([]), set: pairs, add: pairs });
  return k
    .obj({ request: edits.optional(), response: edits.optional() })
    .superRefine((c, ctx) => {
      if (c.request === undefined && c.response === undefined) ctx.addIssue({ code: 'custom', message: 'needs "request", "response" or both', input: c });
    });
}

export type HeaderMutationConfig = z.output<ReturnType<typeof headerMutationSchema>>;
export type HeaderEdits = NonNullable<HeaderMutationConfig['request']>;

export const headerMutationFilterSpec: ConfigSpec<HeaderMutationConfig> = { schema: headerMutationSchema };

/** The edits of one side as plain arrays, taken once when the filter is built. */
function compileEdits(edits: HeaderEdits): HeaderEdits {
  return { remove: [...edits.remove], set: edits.set.map(([name, value]) => [name, value]), add: edits.add.map(([name, value]) => [name, value]) };
}

function apply(edits: HeaderEdits, headers: HeaderMap): void {
  for (const name of edits.remove) headers.remove(name);
  for (const [name, value] of edits.set) headers.set(name, value);
  for (const [name, value] of edits.add) headers.add(name, value);
}

/** Stateless, so one instance per configured entry serves every stream. */
class RequestMutation implements StreamReceiverFilter {
  constructor(readonly edits: HeaderEdits) {}
  setReceiverCallbacks(): void {}
  onReceiveHeaders(request: RequestFrame): FilterStatus {
    apply(this.edits, request.headers);
    return FilterStatus.Continue;
  }
}

class ResponseMutation implements StreamSenderFilter {
  constructor(readonly edits: HeaderEdits) {}
  setSenderCallbacks(): void {}
  onSendHeaders(response: ResponseFrame): FilterStatus {
    apply(this.edits, response.headers);
    return FilterStatus.Continue;
  }
}

export const headerMutationFilterFactory: StreamFilterFactory = {
  create(config: unknown, path: string): StreamFilterChainFactory {
    const parsed = parseStreamFilterConfig('header_mutation', headerMutationFilterSpec, config, path);
    const req = parsed.request === undefined ? null : new RequestMutation(compileEdits(parsed.request));
    const res = parsed.response === undefined ? null : new ResponseMutation(compileEdits(parsed.response));
    return (_stream, chain) => {
      if (req !== null) chain.addReceiverFilter(req);
      if (res !== null) chain.addSenderFilter(res);
    };
  },
};
