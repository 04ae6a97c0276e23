/**
 * logging: the `logging:` section — `level`, `type` (text or json), `stderr` and
 * `timestamps` (a leading RFC 3339 time on text lines; `$LIFEBOAT_LOG_TIMESTAMPS` overrides
 * it, for every command, with a config file or without).
 */
import { ConfigError } from '../errors.js';
import type { LogLevel } from '../log.js';
import { DEFAULT_LOG_LEVEL, DEFAULT_LOG_STDERR, DEFAULT_LOG_TIMESTAMPS, LOG_TIMESTAMPS_ENV } from './defaults.js';
import { RawMap } from './fields.js';
import type { LoggingConfig } from './types.js';

const LEVELS: Record<string, LogLevel> = { debug: 'debug', info: 'info', warn: 'warn', warning: 'warn', error: 'error' };

/** validateLogging reads `logging:` (absent: the defaults), then applies `$LIFEBOAT_LOG_TIMESTAMPS` from `env` (it wins over the file). */
export function validateLogging(raw: unknown, env: NodeJS.ProcessEnv = {}, warnings: string[] = []): LoggingConfig {
  const m = new RawMap('logging', raw);
  const logging = defaultLogging();
  const level = m.string('level');
  if (level !== undefined) {
    const l = LEVELS[level.toLowerCase()];
    if (!l) throw new ConfigError(m.at('level'), `invalid level ${JSON.stringify(level)} (want debug, info, warn or error)`, level);
    logging.level = l;
  }
  const type = m.string('type');
  if (type !== undefined) {
    if (type !== 'text' && type !== 'json') {
      throw new ConfigError(m.at('type'), `invalid type ${JSON.stringify(type)} (want text or json)`, type);
    }
    logging.type = type;
  }
  logging.stderr = m.bool('stderr') ?? logging.stderr;
  // Read the key even when the environment wins, so that it is not reported as unknown.
  const fromFile = m.bool('timestamps');
  logging.timestamps = timestampsFromEnv(env) ?? fromFile ?? logging.timestamps;
  warnings.push(...m.unknownKeys().map((k) => `${k}: unknown key, ignored`));
  return logging;
}

/** defaultLogging is `info`, text with timestamps, on stderr; `$LIFEBOAT_LOG_TIMESTAMPS` from `env` applied (the `DB URL…` forms have no config file). */
export function defaultLogging(env: NodeJS.ProcessEnv = {}): LoggingConfig {
  const timestamps = timestampsFromEnv(env) ?? DEFAULT_LOG_TIMESTAMPS;
  return { level: DEFAULT_LOG_LEVEL, type: 'text', stderr: DEFAULT_LOG_STDERR, timestamps };
}

/** timestampsFromEnv parses `$LIFEBOAT_LOG_TIMESTAMPS`: 1 or true, 0 or false; unset or empty: undefined. */
function timestampsFromEnv(env: NodeJS.ProcessEnv): boolean | undefined {
  const v = env[LOG_TIMESTAMPS_ENV]?.trim();
  if (v === undefined || v === '') return undefined;
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw new ConfigError(LOG_TIMESTAMPS_ENV, `not 0 or 1: ${JSON.stringify(v)}`, v);
}
