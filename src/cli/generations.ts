/**
 * generations: `lifeboat generations [flags] DB_PATH|REPLICA_URL|REPLICA_DIR` lists each replica's
 * generations with the reference's columns — name, generation, lag (behind the database's
 * last change; behind now for a URL; `-` if the database file is missing; never negative),
 * start, end.
 */
import { summarizeReplica } from '../replicator/generations.js';
import { parseArgs, type CommandSpec } from './args.js';
import { CONFIG_FLAGS } from './common.js';
import { formatLag, formatTime } from './listing.js';
import { REPLICA_FLAG, dbUpdatedAt, printReplicaTable, resolveTarget } from './targets.js';

/** spec declares `lifeboat generations`. */
export const spec: CommandSpec = {
  name: 'generations',
  summary: 'List the generations of a database\'s replicas (or of one replica URL), with their lag and time range.',
  usage: 'generations [flags] DB_PATH\ngenerations [flags] REPLICA_URL|REPLICA_DIR',
  flags: [...CONFIG_FLAGS, REPLICA_FLAG],
  minArgs: 1,
  maxArgs: 1,
};

/** run prints the table; a replica that cannot be listed is reported on stderr and makes the exit code 1. */
export async function run(argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(spec, argv);
  const target = await resolveTarget(flags, args[0]);
  const since = target.db ? dbUpdatedAt(target.db.path) : new Date();
  return printReplicaTable(target, 'generations', ['name', 'generation', 'lag', 'start', 'end'], async (r) =>
    (await summarizeReplica(r)).map((g) => {
      const lag = since ? formatLag(since.getTime() - g.updatedAt.getTime()) : '-';
      return [r.name, g.generation, lag, formatTime(g.createdAt), formatTime(g.updatedAt)];
    }),
  );
}
