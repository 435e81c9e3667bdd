/**
 * The `drpc` network filter's config, on a listener whose address is `drpc:/path/to.sock`:
 *
 *   { "type": "drpc", "config": { "server_name": "runtime", "socket_mode": "0600", "max_message_bytes": 4194304 } }
 *
 * server_name     the runtime server whose invoker and stream filters serve the calls (the grpc
 *                 filter's server_name; default "runtime")
 * socket_mode     file mode of the socket file: an octal string ("0600", "0660") or a number
 *                 (default "0600": only the sidecar's user may connect)
 * max_message_bytes  largest call a session accepts; a larger one fails that session
 *                 (default: ringside.limits.max_grpc_message_bytes)
 */
import { z } from 'zod';
import type { ConfigKit, ConfigSpec } from '../../types/extension.js';

/** A socket file mode: an octal string ("0600", "660") or a number, in 1…0777. */
export function socketMode() {
  return z
    .union([z.string(), z.number()], { error: 'expected a file mode: an octal string like "0600" or a number' })
    .transform((v, ctx): number => {
      const n = typeof v === 'number' ? v : /^0?[0-7]{3}$/.test(v) ? parseInt(v, 8) : NaN;
      if (Number.isInteger(n) && n > 0 && n <= 0o777) return n;
      ctx.addIssue({ code: 'custom', message: `invalid socket mode ${JSON.stringify(v)}: expected an octal string like "0600" (owner only) or "0660"`, input: v });
      return z.NEVER;
    });
}

function drpcFilter(k: ConfigKit) {
  return k.obj({
    server_name: z.string().min(1).default('runtime'),
    socket_mode: socketMode().default(0o600),
    max_message_bytes: z.number().int({ error: 'expected an integer' }).min(1, { error: 'expected an integer ≥ 1' }).optional(),
  });
}

export type DrpcFilterConfig = z.output<ReturnType<typeof drpcFilter>>;

export const drpcFilterSpec: ConfigSpec<DrpcFilterConfig> = { schema: drpcFilter };
