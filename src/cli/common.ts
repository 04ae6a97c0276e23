/**
 * common: what several commands share — the `-config` / `-no-expand-env` flags, loading
 * the config they name, and configuring the logger from `logging:`.
 */
import { loadConfig, resolveConfigPath, type ParsedText } from '../config/load.js';
import { defaultLogging } from '../config/logging.js';
import type { Config } from '../config/types.js';
import { log, type Logger, type LogLevel } from '../log.js';
import type { FlagSpec, ParsedArgs } from './args.js';

/** CONFIG_FLAGS are `-config PATH` and `-no-expand-env`, for every command that reads a config file. */
export const CONFIG_FLAGS: FlagSpec[] = [
  {
    name: 'config',
    type: 'string',
    placeholder: 'PATH',
    description: 'Config file (default: $LIFEBOAT_CONFIG, $LITESTREAM_CONFIG,\n/etc/lifeboat.yml, /etc/litestream.yml, $LIFEBOAT_DEFAULT_CONFIG).',
  },
  { name: 'no-expand-env', type: 'boolean', description: 'Do not expand $VAR / ${VAR} in the config file.' },
];

/** CommandConfigOptions: the logger to configure, `$LIFEBOAT_HEALTH_MAX_LAG` applied or not, and a hook that receives the parsed file (config/load.ts). */
export interface CommandConfigOptions {
  /** logger is the logger to configure (default: the process's `log`). */
  logger?: Logger;
  /** healthEnv applies `$LIFEBOAT_HEALTH_MAX_LAG`. */
  healthEnv?: boolean;
  /** onParsed receives the config file's expanded text and YAML tree (`replicate -config-fd`). */
  onParsed?: (parsed: ParsedText) => void;
  /** parsed is a parse of the file done by another process (`restore -config-fd`), used when its text matches. */
  parsed?: ParsedText;
}

/**
 * loadCommandConfig loads the config named by `-config` (or found by the lookup order),
 * configures logging (`log`, or `opts.logger`) from it — at debug level with a `-v` flag
 * (`restore -v`) — and logs its warnings; `healthEnv`
 * applies `$LIFEBOAT_HEALTH_MAX_LAG` (the commands that judge health). With
 * `optional`, returns undefined when no file is named or found (commands that also accept
 * a DB path or replica URL); logging then has its defaults and `$LIFEBOAT_LOG_TIMESTAMPS`.
 */
export async function loadCommandConfig(flags: ParsedArgs['flags'], opts?: CommandConfigOptions & { optional?: false }): Promise<Config>;
export async function loadCommandConfig(flags: ParsedArgs['flags'], opts: CommandConfigOptions & { optional: true }): Promise<Config | undefined>;
export async function loadCommandConfig(flags: ParsedArgs['flags'], opts: CommandConfigOptions & { optional?: boolean } = {}): Promise<Config | undefined> {
  const flag = typeof flags.config === 'string' ? flags.config : undefined;
  const resolved = resolveConfigPath(flag);
  if (!resolved && opts.optional) {
    setupLogging({ logging: defaultLogging(process.env) }, opts.logger);
    return undefined;
  }
  const config = await loadConfig({
    path: resolved?.path,
    expandEnv: flags['no-expand-env'] !== true,
    healthEnv: opts.healthEnv,
    onParsed: opts.onParsed,
    parsed: opts.parsed,
  });
  setupLogging(config, opts.logger, flags.v === true ? 'debug' : undefined);
  return config;
}

/** setupLogging applies `logging:` (level — unless `level` overrides it —, text/json, timestamps, stderr — the default — or stdout) and logs the config's warnings. */
export function setupLogging(config: Pick<Config, 'logging' | 'warnings'>, logger: Logger = log, level?: LogLevel): void {
  const stream = config.logging.stderr ? process.stderr : process.stdout;
  logger.configure({
    level: level ?? config.logging.level,
    json: config.logging.type === 'json',
    timestamps: config.logging.timestamps,
    write: (line) => stream.write(line),
  });
  for (const w of config.warnings ?? []) logger.warn(w);
}
