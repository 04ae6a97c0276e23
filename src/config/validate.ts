/**
 * validate: a raw parsed `lifeboat.yml` / `litestream.yml` → a complete `Config`. Pure
 * (no I/O): every bad value is one ConfigError naming its key path; non-fatal findings
 * (unknown or ignored keys) are collected in `config.warnings`.
 */
import { ConfigError } from '../errors.js';
import { parseListenAddr } from './addr.js';
import { RawMap, dropUndefined } from './fields.js';
import { fillDb } from './fill.js';
import { validateHealth } from './health.js';
import { validateLogging } from './logging.js';
import { defaultPathContext, expandPath, type PathContext } from './paths.js';
import { validateReplica } from './replica.js';
import type { Config, DbConfig } from './types.js';

/** ValidateOptions: where relative and `~` paths resolve (defaults: cwd and home), and the environment. */
export interface ValidateOptions {
  paths?: PathContext;
  /** env supplies `$LIFEBOAT_LOG_TIMESTAMPS` (logging.ts) and `$LIFEBOAT_HEALTH_MAX_LAG` (health.ts); none: neither is read. */
  env?: NodeJS.ProcessEnv;
  /** healthEnv: false leaves `$LIFEBOAT_HEALTH_MAX_LAG` unread (the commands that do not judge health). */
  healthEnv?: boolean;
}

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
    logging: validateLogging(top.raw('logging'), opts.env, warnings),
    health: validateHealth(top.raw('health'), opts.healthEnv === false ? {} : opts.env, warnings),
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
