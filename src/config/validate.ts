/**
 * validate: a raw parsed `lifeboat.yml` / `litestream.yml` → a complete `Config`. Pure
 * (no I/O): every bad value is one ConfigError naming its key path; non-fatal findings
 * (unknown or ignored keys) are collected in `config.warnings`.
 */
import { ConfigError } from '../errors.js';
import type { LogLevel } from '../log.js';
import { parseListenAddr } from './addr.js';
import { RawMap, dropUndefined } from './fields.js';
import { defaultLogging, fillDb } from './fill.js';
import { validateHealth } from './health.js';
import { defaultPathContext, expandPath, type PathContext } from './paths.js';
import { validateReplica } from './replica.js';
import type { Config, DbConfig, LoggingConfig } from './types.js';

/** ValidateOptions: where relative and `~` paths resolve (defaults: cwd and home), and the environment. */
export interface ValidateOptions {
  paths?: PathContext;
  /** env supplies `$LIFEBOAT_HEALTH_MAX_LAG` (health.ts); none: not read. */
  env?: NodeJS.ProcessEnv;
}

const LEVELS: Record<string, LogLevel> = { debug: 'debug', info: 'info', warn: 'warn', warning: 'warn', error: 'error' };

/** validateConfig checks a raw parsed config and fills in every default. */
export function validateConfig(raw: unknown, opts: ValidateOptions = {}): Config {
  const paths = opts.paths ?? defaultPathContext();
  const warnings: string[] = [];
  const top = new RawMap('', raw);
  const config: Config = dropUndefined({
    addr: validateAddr(top),
    exec: top.string('exec'),
    accessKeyId: top.secret('access-key-id'),
    secretAccessKey: top.secret('secret-access-key'),
    shutdownSyncTimeout: top.nonNegativeDuration('shutdown-sync-timeout'),
    logging: validateLogging(top.raw('logging'), warnings),
    health: validateHealth(top.raw('health'), opts.env, warnings),
    dbs: [] as DbConfig[],
    warnings,
  });
  const dbs = top.list('dbs') ?? [];
  const seen = new Map<string, number>();
  dbs.forEach((rawDb, i) => {
    const db = validateDb(rawDb, `dbs[${i}]`, { paths, warnings, accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey });
    const prev = seen.get(db.path);
    if (prev !== undefined) {
      throw new ConfigError(`dbs[${i}].path`, `duplicate database path ${JSON.stringify(db.path)} (also dbs[${prev}])`, db.path);
    }
    seen.set(db.path, i);
    config.dbs.push(db);
  });
  warnings.unshift(...top.unknownKeys().map((k) => `${k}: unknown key, ignored`));
  return config;
}

/** validateLogging reads `logging.level` (debug|info|warn|error), `logging.type` (text|json), `logging.stderr`. */
export function validateLogging(raw: unknown, warnings: string[] = []): LoggingConfig {
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
  warnings.push(...m.unknownKeys().map((k) => `${k}: unknown key, ignored`));
  return logging;
}

interface DbContext {
  paths: PathContext;
  warnings: string[];
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** validateDb reads one `dbs[i]` entry: its path, intervals, checkpoint thresholds and replicas. */
function validateDb(raw: unknown, at: string, ctx: DbContext): DbConfig {
  const m = new RawMap(at, raw);
  if (m.has('replica')) {
    throw new ConfigError(m.at('replica'), 'not supported (Litestream v0.4 form): use a "replicas:" list');
  }
  const rawPath = m.string('path');
  if (rawPath === undefined) throw new ConfigError(m.at('path'), 'required');
  const metaPath = m.string('meta-path');
  const given: Partial<DbConfig> = dropUndefined({
    metaPath: metaPath === undefined ? undefined : expandPath(metaPath, ctx.paths),
    monitorInterval: m.positiveDuration('monitor-interval'),
    checkpointInterval: m.nonNegativeDuration('checkpoint-interval'),
    busyTimeout: m.nonNegativeDuration('busy-timeout'),
    minCheckpointPageCount: m.intAtLeast('min-checkpoint-page-count', 1, 'must be greater than 0'),
    maxCheckpointPageCount: m.intAtLeast('max-checkpoint-page-count', 0, 'must not be negative'),
  });
  const replicas = (m.list('replicas') ?? []).map((r, j) => validateReplica(r, `${at}.replicas[${j}]`, ctx));
  const names = new Map<string, number>();
  replicas.forEach((r, j) => {
    const prev = names.get(r.name);
    if (prev !== undefined) {
      throw new ConfigError(`${at}.replicas[${j}].name`, `duplicate replica name ${JSON.stringify(r.name)} (also replicas[${prev}]): name each replica`, r.name);
    }
    names.set(r.name, j);
  });
  ctx.warnings.push(...m.unknownKeys().map((k) => `${k}: unknown key, ignored`));
  return fillDb(expandPath(rawPath, ctx.paths), replicas, given);
}

/** validateAddr checks the metrics address (`:9090`, `127.0.0.1:9090`). */
function validateAddr(top: RawMap): string | undefined {
  const addr = top.string('addr');
  if (addr === undefined || addr === '') return undefined;
  try {
    parseListenAddr(addr);
  } catch (err) {
    throw new ConfigError(top.at('addr'), (err as Error).message, addr);
  }
  return addr;
}
