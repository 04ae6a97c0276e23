/**
 * targets: what `restore`, `generations`, `snapshots` and `wal` operate on — a database
 * path looked up in the config (its replicas, or the one `-replica` names), or a replica
 * (no config): a URL, or a plain path to a directory holding `generations/` (a file
 * replica; never a database, which is a file). Builds the storage clients; `close`
 * releases them.
 */
import { fs } from '../builtin.js';
import path from 'node:path';
import { noConfigFound, type ParsedText } from '../config/load.js';
import type { Config, DbConfig, ReplicaConfig } from '../config/types.js';
import { expandPath } from '../config/paths.js';
import { ConfigError, UsageError, errorMessage } from '../errors.js';
import { GENERATIONS_DIR } from '../replicator/layout.js';
import { isGeneration } from '../replicator/pos.js';
import { log } from '../log.js';
import { createReplicaClient, isMissingFileReplica } from '../replicator/clients/index.js';
import type { NamedClient } from '../replicator/generations.js';
import { isReplicaURL, replicaFromURL } from '../config/url.js';
import type { FlagSpec, ParsedArgs } from './args.js';
import { loadCommandConfig } from './common.js';
import { formatTable } from './listing.js';

/** REPLICA_FLAG is `-replica NAME`. */
export const REPLICA_FLAG: FlagSpec = { name: 'replica', type: 'string', placeholder: 'NAME', description: 'Only this replica of the database.' };

/** GENERATION_FLAG is `-generation HEX16`. */
export const GENERATION_FLAG: FlagSpec = { name: 'generation', type: 'string', placeholder: 'HEX16', description: 'Only this generation.' };

/** parseGenerationFlag checks a `-generation` value: 16 lowercase hex characters. */
export function parseGenerationFlag(v: string | boolean | undefined): string | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined;
  if (!isGeneration(v)) throw new UsageError(`invalid -generation ${JSON.stringify(v)}: want 16 lowercase hex characters`);
  return v;
}

/** Target is the resolved argument: the database's config (absent for a URL) and its replicas' clients. */
export interface Target {
  db?: DbConfig;
  replicas: NamedClient[];
  close(): Promise<void>;
}

/**
 * resolveTarget turns `DB_PATH | REPLICA_URL` plus `-config` / `-replica` into replica
 * clients. A plain path is a database of the config (as in Litestream), unless it is a
 * directory holding `generations/`: then it is that file replica.
 */
export async function resolveTarget(flags: ParsedArgs['flags'], arg: string, parsed?: ParsedText): Promise<Target> {
  const replicaName = typeof flags.replica === 'string' ? flags.replica : undefined;
  const dir = isReplicaURL(arg) ? undefined : replicaDirectory(arg);
  if (isReplicaURL(arg) || dir !== undefined) {
    const what = dir === undefined ? 'a replica URL' : `a replica directory (${dir})`;
    if (typeof flags.config === 'string') throw new UsageError(`cannot combine ${what} with -config`);
    if (replicaName !== undefined) throw new UsageError(`cannot combine ${what} with -replica`);
    return clientsFor(undefined, [replicaFromURL(dir ?? arg)], {});
  }
  const config = await loadCommandConfig(flags, { optional: true, parsed });
  if (!config) throw new ConfigError('', `${noConfigFound()} to look up database ${expandPath(arg)}${replicaHint(arg)}`);
  const db = findDb(config, arg);
  let replicas = db.replicas;
  if (replicaName !== undefined) {
    replicas = replicas.filter((r) => r.name === replicaName);
    if (replicas.length === 0) throw new ConfigError('', `replica ${JSON.stringify(replicaName)} not found for database ${db.path}`, replicaName);
  }
  if (replicas.length === 0) throw new ConfigError('', `database ${db.path} has no replicas`);
  return clientsFor(db, replicas, config);
}

/** replicaDirectory returns the absolute path of `arg` if it is a directory holding `generations/`. */
export function replicaDirectory(arg: string): string | undefined {
  const dir = expandPath(arg);
  try {
    return fs.statSync(path.join(dir, GENERATIONS_DIR)).isDirectory() ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** replicaHint tells how to name a replica instead, for a plain path that is not a database of the config. */
function replicaHint(arg: string): string {
  const p = expandPath(arg);
  if (isDirectory(p)) return ` (${p} is a directory without ${GENERATIONS_DIR}/: for a replica, give file://${p})`;
  return ' (for a replica, give its URL: file:///abs/dir, s3://bucket/path)';
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * findDb looks a database path up in the config (absolute, `~` expanded, symlinks resolved
 * on both sides). Not found: a ConfigError naming the config, its databases (up to 3) and
 * how to name a replica instead.
 */
export function findDb(config: Config, arg: string): DbConfig {
  const want = expandPath(arg);
  const real = realpath(want);
  const db = config.dbs.find((d) => d.path === want || realpath(d.path) === real);
  if (db) return db;
  const names = config.dbs.slice(0, 3).map((d) => d.path).join(', ') + (config.dbs.length > 3 ? ', …' : '');
  const has = config.dbs.length === 0 ? 'it has no databases' : `its databases: ${names}`;
  const from = config.file ? ` ${config.file}` : '';
  throw new ConfigError('', `database not found in config${from}: ${want} (${has})${replicaHint(arg)}`, want);
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function clientsFor(db: DbConfig | undefined, replicas: ReplicaConfig[], config: Partial<Config>): Target {
  const globals = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey };
  const named = replicas.map((r) => ({
    name: r.name,
    client: createReplicaClient(r, globals, { logger: log.child({ db: db?.path, replica: r.name }) }),
  }));
  return { db, replicas: named, close: async () => void (await Promise.all(named.map((r) => r.client.close()))) };
}

/** dbUpdatedAt is when the database last changed: the newer mtime of the file and its `-wal`; undefined if missing. */
export function dbUpdatedAt(dbPath: string): Date | undefined {
  let t: number | undefined;
  for (const p of [dbPath, `${dbPath}-wal`]) {
    try {
      const m = Number(fs.statSync(p, { bigint: true }).mtimeNs / 1_000_000n);
      if (t === undefined || m > t) t = m;
    } catch {
      if (p === dbPath) return undefined;
    }
  }
  return t === undefined ? undefined : new Date(t);
}

/**
 * printReplicaTable prints `header` and the rows `rowsOf` gives for each replica of
 * `target`, tab-aligned, then closes the target. A replica that cannot be listed is
 * reported on stderr (`cannot list <what>`) and makes the result 1; the others still print.
 */
export async function printReplicaTable(
  target: Target,
  what: string,
  header: string[],
  rowsOf: (r: NamedClient) => Promise<string[][]>,
): Promise<number> {
  try {
    const rows = [header];
    let code = 0;
    for (const r of target.replicas) {
      try {
        rows.push(...(await rowsOf(r)));
        if (isMissingFileReplica(r.client)) log.warn('replica directory does not exist', { replica: r.name, path: r.client.location });
      } catch (err) {
        log.error(`cannot list ${what}`, { replica: r.name, error: errorMessage(err) });
        code = 1;
      }
    }
    process.stdout.write(formatTable(rows));
    return code;
  } finally {
    await target.close();
  }
}
