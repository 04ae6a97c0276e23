/**
 * wal: `lifeboat wal [flags] DB_PATH|REPLICA_URL|REPLICA_DIR` lists stored WAL segments with the
 * reference's columns — replica, generation, index, offset, size, created — index and
 * offset in `%08x` hex as in the segment names (the reference prints both in decimal).
 */
import { collect, listGenerations, sortSegments } from '../replicator/generations.js';
import { hex8 } from '../replicator/pos.js';
import { parseArgs, type CommandSpec } from './args.js';
import { CONFIG_FLAGS } from './common.js';
import { formatTime } from './listing.js';
import { GENERATION_FLAG, REPLICA_FLAG, parseGenerationFlag, printReplicaTable, resolveTarget } from './targets.js';

/** spec declares `lifeboat wal`. */
export const spec: CommandSpec = {
  name: 'wal',
  summary: 'List the WAL segments stored for a database (or in one replica URL).',
  usage: 'wal [flags] DB_PATH\nwal [flags] REPLICA_URL|REPLICA_DIR',
  flags: [...CONFIG_FLAGS, REPLICA_FLAG, GENERATION_FLAG],
  minArgs: 1,
  maxArgs: 1,
};

/** run prints the table, by replica, generation and (index, offset); listing failures make the exit code 1. */
export async function run(argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(spec, argv);
  const only = parseGenerationFlag(flags.generation);
  const target = await resolveTarget(flags, args[0]);
  return printReplicaTable(target, 'wal segments', ['replica', 'generation', 'index', 'offset', 'size', 'created'], async (r) => {
    const rows: string[][] = [];
    for (const g of only !== undefined ? [only] : await listGenerations(r.client)) {
      for (const s of sortSegments(await collect(r.client.walSegments(g)))) {
        rows.push([r.name, g, hex8(s.index), hex8(s.offset), String(s.size), formatTime(s.createdAt)]);
      }
    }
    return rows;
  });
}
