/**
 * init: `lifeboat init [flags] [--] [CMD ARGS…]` — the container init. Flags come first;
 * the first argument that is not a flag (or everything after `--`) is the app's command
 * line, passed through untouched. Reads the knobs, the config and services.d (any error:
 * exit 2), then hands over to src/supervisor/init.ts.
 */
import { loadConfig, resolveConfigPath } from '../config/load.js';
import type { Config } from '../config/types.js';
import { log } from '../log.js';
import { readKnobs } from '../supervisor/knobs.js';
import { runInit } from '../supervisor/init.js';
import { readServicesDir } from '../supervisor/service-dir.js';
import { parseArgs, type CommandSpec } from './args.js';
import { CONFIG_FLAGS, setupLogging } from './common.js';

/** spec declares `lifeboat init`. */
export const spec: CommandSpec = {
  name: 'init',
  summary:
    'Run as the container init: restore missing databases, start the replicator and\n' +
    'services.d, start the app once the replicator is ready, and on exit or a stop\n' +
    'signal stop the app first and the replicator (final sync) last.',
  usage: 'init [flags] [--] [CMD ARGS...]',
  flags: [
    ...CONFIG_FLAGS,
    {
      name: 'services',
      type: 'string',
      placeholder: 'DIR',
      description: 'Service directories (default: $LIFEBOAT_SERVICES_DIR, /etc/services.d).',
    },
  ],
};

/** run parses the command line and settings, then runs the init; returns its exit code. */
export async function run(argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(spec, argv);
  const knobs = readKnobs(process.env);
  if (typeof flags.services === 'string') knobs.servicesDir = flags.services;
  const resolved = resolveConfigPath(typeof flags.config === 'string' ? flags.config : undefined);
  const noExpand = flags['no-expand-env'] === true;
  let config: Config | undefined;
  if (resolved) {
    config = await loadConfig({ path: resolved.path, expandEnv: !noExpand });
    setupLogging(config);
  }
  const services = readServicesDir(knobs.servicesDir);
  return runInit({
    knobs,
    command: args,
    services,
    config,
    configPath: resolved?.path,
    childFlags: noExpand ? ['-no-expand-env'] : [],
    log,
  });
}
