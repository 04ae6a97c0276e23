/**
 * init: `lifeboat init [flags] [--] [CMD ARGS…]` — the container init. Flags come first;
 * the first argument that is not a flag (or everything after `--`) is the app's command
 * line, passed through untouched. Reads the knobs, the config and services.d (any error:
 * exit 2), then hands over to src/supervisor/init.ts.
 */
import { DEFAULT_CONFIG_ENV } from '../config/defaults.js';
import { decodeParsedText, loadConfig, resolveConfigPath, type ParsedText } from '../config/load.js';
import { defaultLogging } from '../config/logging.js';
import type { Config } from '../config/types.js';
import { log } from '../log.js';
import { REPLICATOR_NAME, REPLICATOR_NOTIFY_FD, replicatorDef } from '../supervisor/builtin.js';
import { type Knobs, readKnobs } from '../supervisor/knobs.js';
import { listScripts } from '../supervisor/oneshot.js';
import { readS6Knobs, verbosityLevel } from '../supervisor/s6-knobs.js';
import { Prestarted } from '../supervisor/prestart.js';
import { INIT_REPLICATES_ENV } from '../supervisor/replicated-by-init.js';
import { readServicesDir } from '../supervisor/service-dir.js';
import { parseArgs, type CommandSpec } from './args.js';
import { CONFIG_FLAGS, setupLogging } from './common.js';

/**
 * PARSED_CONFIG_WAIT_MS bounds the wait for the prestarted replicator's parse of the config
 * (it starts Node and reads the file: ~120 ms, seconds on a loaded machine); past it the
 * init parses the file itself.
 */
const PARSED_CONFIG_WAIT_MS = 5_000;

/** STOP_SIGNALS end that wait early (each may stop the container, in either signal mode). */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGPWR'];

/** spec declares `lifeboat init`. */
export const spec: CommandSpec = {
  name: 'init',
  summary:
    'Run as the container init: restore missing databases, start the replicator and\n' +
    'services.d, start the app once the replicator is ready, and on exit or a stop\n' +
    'signal stop the app first and the replicator (final sync) last.',
  usage: 'init [flags] [--] [CMD ARGS...]',
  argsAreCommand: true,
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
  // An init started under another init replicates its own databases: its replicator, the
  // prestarted one and the last flush inherit this environment (replicated-by-init.ts).
  delete process.env[INIT_REPLICATES_ENV];
  const knobs = readKnobs(process.env);
  if (typeof flags.services === 'string') knobs.servicesDir = flags.services;
  const resolved = resolveConfigPath(typeof flags.config === 'string' ? flags.config : undefined);
  const noExpand = flags['no-expand-env'] === true;
  const childFlags = noExpand ? ['-no-expand-env'] : [];
  const prestarted = resolved ? prestart(resolved.path, knobs, childFlags) : undefined;
  const { runInit } = await import('../supervisor/init.js');
  let config: Config | undefined;
  let parsedBy: string | undefined;
  let parsedConfig: ParsedText | undefined;
  if (resolved) {
    // The prestarted replicator parses the same file: its parse spares the init the YAML library.
    const parsed = prestarted && (await parsedByReplicator(prestarted));
    parsedBy = parsed ? 'here: the replicator parsed other text (its environment differs)' : 'here: nothing from the replicator';
    const onParsed = (p: ParsedText): void => {
      parsedConfig = p;
      if (parsed && p.tree === parsed.tree) parsedBy = 'by the replicator';
    };
    config = await loadConfig({ path: resolved.path, expandEnv: !noExpand, healthEnv: true, parsed, onParsed });
  }
  // S6_VERBOSITY, when set, is the init's log level (over the config's).
  setupLogging(config ?? { logging: defaultLogging(process.env) }, log, verbosityLevel(readS6Knobs(process.env).verbosity));
  if (parsedBy) log.debug(`config ${resolved?.path} parsed ${parsedBy}`);
  // Only now, formatted as the config says: the prestarted replicator's early lines (its config warnings).
  prestarted?.showOutput();
  if (resolved?.fallback) log.info(`no config file given: using the default, ${resolved.path} ($${DEFAULT_CONFIG_ENV})`);
  const services = readServicesDir(knobs.servicesDir, log);
  return runInit({
    knobs,
    command: args,
    services,
    config,
    configPath: resolved?.path,
    childFlags,
    prestarted,
    parsedConfig,
    log,
  });
}

/**
 * parsedByReplicator is the prestarted replicator's parse of the config: at most
 * PARSED_CONFIG_WAIT_MS, and no longer once a stop signal comes (it stays held for the
 * init, which then parses the file itself and acts on it).
 */
async function parsedByReplicator(prestarted: Prestarted): Promise<ParsedText | undefined> {
  const stop = new AbortController();
  const onStop = (): void => stop.abort();
  for (const sig of STOP_SIGNALS) process.on(sig, onStop);
  try {
    const json = await prestarted.parsedConfig(PARSED_CONFIG_WAIT_MS, stop.signal);
    return json === undefined ? undefined : decodeParsedText(json);
  } finally {
    for (const sig of STOP_SIGNALS) process.off(sig, onStop);
  }
}

/**
 * prestart starts the replicator's Node now, waiting for its start line, so its start-up
 * overlaps the init's own (supervisor/prestart.ts). Not when cont-init.d scripts exist:
 * they may prepare what the replicator reads.
 */
function prestart(configPath: string, knobs: Knobs, childFlags: string[]): Prestarted | undefined {
  if (listScripts(knobs.contInitDir).length > 0) return undefined;
  return Prestarted.spawn({
    name: REPLICATOR_NAME,
    command: replicatorDef(configPath, knobs, childFlags).command,
    notificationFd: REPLICATOR_NOTIFY_FD,
    prefix: knobs.logPrefix,
  });
}
