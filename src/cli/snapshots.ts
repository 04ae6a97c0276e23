/**
 * snapshots: `lifeboat snapshots [flags] DB_PATH|REPLICA_URL|REPLICA_DIR` lists stored snapshots with
 * the reference's columns — replica, generation, index, size, created — but the index in
 * `%08x` hex, the form `restore -index` takes (the reference prints it in decimal).
 */
import { collect, listGenerations, sortSnapshots } from '../replicator/generations.js';
import { hex8 } from '../replicator/pos.js';
import { parseArgs, type CommandSpec } from './args.js';
import { CONFIG_FLAGS } from './common.js';
import { formatTime } from './listing.js';
import { GENERATION_FLAG, REPLICA_FLAG, parseGenerationFlag, printReplicaTable, resolveTarget } from './targets.js';

/** spec declares `lifeboat snapshots`. */
export const spec: CommandSpec = {
  name: 'snapshots',
  summary: 'List the snapshots stored for a database (or in one replica URL).',
  usage: 'snapshots [flags] DB_PATH\nsnapshots [flags] REPLICA_URL|REPLICA_DIR',
  flags: [...CONFIG_FLAGS, REPLICA_FLAG, GENERATION_FLAG],
  minArgs: 1,
  maxArgs: 1,
};

/** run prints the table, by replica, generation and index; listing failures make the exit code 1. */
export async function run(argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(spec, argv);
  const only = parseGenerationFlag(flags.generation);
  const target = await resolveTarget(flags, args[0]);
  return printReplicaTable(target, 'snapshots', ['replica', 'generation', 'index', 'size', 'created'], async (r) => {
    const rows: string[][] = [];
    for (const g of only !== undefined ? [only] : await listGenerations(r.client)) {
      for (const s of sortSnapshots(await collect(r.client.snapshots(g)))) {
        rows.push([r.name, g, hex8(s.index), String(s.size), formatTime(s.createdAt)]);
      }
    }
    return rows;
  });
}
