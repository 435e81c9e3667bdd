/**
 * Joins the ADS client to the supervisor: an xDS update is validated with the config file by the same
 * loader (ConfigSource) and applied on every worker by the same path as a reload
 * (Supervisor.applyConfig), so a resource from a control plane gets exactly the checks and the
 * no-dropped-connections swap a file gets.
 */
import { ConfigError, formatIssue } from '../config/index.js';
import { logger } from '../common/log.js';
import { XdsClient } from '../xds/client.js';
import type { XdsBootstrap } from '../xds/bootstrap.js';
import type { DynamicFragments } from '../xds/compose.js';
import type { ConfigSource } from './config-source.js';
import type { Supervisor } from './supervisor.js';

const log = logger('xds');

export async function startXds(bootstrap: XdsBootstrap, source: ConfigSource, supervisor: Supervisor): Promise<XdsClient> {
  const client = new XdsClient({
    ...bootstrap,
    applier: {
      validate(fragments: DynamicFragments): string | null {
        try {
          source.load(fragments);
          return null;
        } catch (err) {
          if (err instanceof ConfigError) return err.issues.map(formatIssue).join('; ');
          return err instanceof Error ? err.message : String(err);
        }
      },
      async apply(fragments: DynamicFragments): Promise<string | null> {
        const outcome = await supervisor.applyConfig(() => source.load(fragments), 'xDS update');
        if (outcome.result === 'applied' || outcome.result === 'unchanged') {
          source.commit(fragments);
          return null;
        }
        return outcome.error ?? (outcome.issues ?? []).map(formatIssue).join('; ');
      },
    },
  });
  supervisor.attachXds(() => client.stats());
  log.info(`ADS: connecting to ${bootstrap.server} as node ${String(bootstrap.node['id'])}`);
  await client.start();
  return client;
}
