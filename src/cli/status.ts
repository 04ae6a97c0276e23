/**
 * status: `lifeboat status [-config PATH] [-json]` — one row per database and replica:
 * generation, local and replica positions, lag, last sync, last error, replicator state.
 * It asks the running replicator on each database's control socket; for a database whose
 * replicator does not answer it reads the replica instead (not with `-no-replica`). Exit
 * code: 0 healthy, 1 unhealthy (also a crash loop), 2 unreachable (no replicator answered
 * for some database; or a usage or config error), so it serves as a container HEALTHCHECK
 * (docs/health.md).
 */
import { fs } from '../builtin.js';
import type { Config } from '../config/types.js';
import { log } from '../log.js';
import { hex8 } from '../replicator/pos.js';
import { readDbStatus } from '../replicator/replica-status.js';
import { askStatus, unknownDb } from '../replicator/status-client.js';
import { judge, seconds, STATUS_VERSION, type DbStatus, type PosJSON, type ReplicatorState, type StatusDoc } from '../replicator/status.js';
import { unhealthyPath } from '../supervisor/health.js';
import { parseArgs, type CommandSpec } from './args.js';
import { CONFIG_FLAGS, loadCommandConfig } from './common.js';
import { formatTable } from './listing.js';

/** spec declares `lifeboat status`. */
export const spec: CommandSpec = {
  name: 'status',
  summary:
    'Show each database\'s replicas: positions, lag, last sync, last error, and the\n' +
    'replicator\'s state. Exit 0 healthy, 1 unhealthy, 2 no replicator answered.',
  usage: 'status [flags]',
  flags: [
    ...CONFIG_FLAGS,
    { name: 'json', type: 'boolean', description: 'Print the status document as JSON (docs/health.md).' },
    {
      name: 'no-replica',
      type: 'boolean',
      description: 'Ask the running replicator only: never read the replica (exit 2 at once when\nnone answers). For a HEALTHCHECK that should not list the replica each time.',
    },
  ],
  maxArgs: 0,
};

/** EXIT_UNHEALTHY: a replica is behind by more than max-lag, or the init marked the replicator as crash-looping. */
export const EXIT_UNHEALTHY = 1;

/** EXIT_UNREACHABLE: no replicator answered for some database (its rows were read from the replica). */
export const EXIT_UNREACHABLE = 2;

/** run prints the status and returns 0, 1 or 2. */
export async function run(argv: string[]): Promise<number> {
  const { flags } = parseArgs(spec, argv);
  const config = await loadCommandConfig(flags, { healthEnv: true });
  const doc = await collectStatus(config, { readReplica: flags['no-replica'] !== true });
  if (flags.json === true) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else process.stdout.write(renderStatus(doc));
  // A crash loop is unhealthy (1) even when no replicator run answers right now.
  if (doc.replicator === 'crash-loop') return EXIT_UNHEALTHY;
  if (doc.source === 'replica') return EXIT_UNREACHABLE;
  return doc.healthy ? 0 : EXIT_UNHEALTHY;
}

/** CollectOptions: `readReplica` false leaves a database whose replicator does not answer unknown, without reading its replica. */
export interface CollectOptions {
  readReplica?: boolean;
}

/** collectStatus asks each database's replicator, reading the replica for those that do not answer (unless told not to). */
export async function collectStatus(config: Config, opts: CollectOptions = {}): Promise<StatusDoc> {
  const asked = await askStatus(config.dbs);
  const problems: string[] = [];
  let pid: number | undefined;
  let unreachable = false;
  let crashLoop = false;
  const databases: DbStatus[] = [];
  for (const db of config.dbs) {
    const a = asked.get(db.path)!;
    // The init's mark: its replicator keeps dying, even if a run of it answers right now.
    const mark = readMark(db.path);
    if (mark !== undefined) {
      crashLoop = true;
      problems.push(`replicator in a crash loop (${unhealthyPath(db.path)}: ${mark})`);
    }
    if ('db' in a) {
      pid = a.pid ?? pid;
      databases.push(a.db);
      continue;
    }
    unreachable = true;
    problems.push(`replicator not answering for ${db.path}: ${a.unreachable}`);
    databases.push(opts.readReplica === false ? unknownDb(db) : await readDbStatus(db, config, log));
  }
  const replicator: ReplicatorState = crashLoop ? 'crash-loop' : unreachable ? 'not-running' : 'running';
  return judge({
    version: STATUS_VERSION,
    source: unreachable ? 'replica' : 'replicator',
    replicator,
    ...(pid === undefined ? {} : { pid }),
    time: new Date().toISOString(),
    max_lag_ms: config.health.maxLag,
    problems,
    databases,
  });
}

/** readMark is the init's unhealthy mark beside the database (a replicator crash loop), if there. */
function readMark(dbPath: string): string | undefined {
  try {
    return fs.readFileSync(unhealthyPath(dbPath), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** renderStatus is the table, then one line for the verdict and one per problem. */
export function renderStatus(doc: StatusDoc): string {
  const rows = [['db', 'replica', 'generation', 'local', 'replica-pos', 'lag', 'last-sync', 'replicator', 'last-error']];
  for (const db of doc.databases) {
    for (const r of db.replicas) {
      rows.push([
        db.path,
        r.name,
        db.position?.generation ?? r.position?.generation ?? '-',
        formatPosition(db.position),
        formatPosition(r.position, db.position?.generation),
        r.lag_ms === null ? '-' : seconds(r.lag_ms),
        r.last_sync ?? '-',
        doc.replicator,
        r.last_error ? `${r.failing ? '' : '(recovered) '}${r.last_error}` : '-',
      ]);
    }
  }
  const verdict = doc.healthy && doc.source === 'replicator' ? 'healthy' : doc.source === 'replica' ? 'unreachable' : 'unhealthy';
  const lines = [`${verdict} (max-lag ${seconds(doc.max_lag_ms)}${doc.pid ? `, replicator pid ${doc.pid}` : ''})`, ...doc.problems.map((p) => `problem: ${p}`)];
  return formatTable(rows) + lines.join('\n') + '\n';
}

/** formatPosition renders `index:offset` in hex as the listings do (`00000001:00001f60`), prefixed by its generation when not `generation`; or `-`. */
function formatPosition(p: PosJSON | null, generation = p?.generation): string {
  if (!p) return '-';
  return `${p.generation === generation ? '' : `${p.generation}/`}${hex8(p.index)}:${hex8(p.offset)}`;
}
