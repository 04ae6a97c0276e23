/**
 * snapshots: `lifeboat snapshots [flags] DB_PATH|REPLICA_URL` lists stored snapshots with
 * the reference's columns — replica, generation, index, size, created — but the index in
 * `%08x` hex, the form `restore -index` takes (the reference prints it in decimal).
 */
import { errorMessage } from '../errors.js';
import { log } from '../log.js';
import { collect, listGenerations, sortSnapshots } from '../replicator/generations.js';
import { hex8 } from '../replicator/pos.js';
import { parseArgs, type CommandSpec } from './args.js';
import { CONFIG_FLAGS } from './common.js';
import { formatTable, formatTime } from './listing.js';
import { GENERATION_FLAG, REPLICA_FLAG, parseGenerationFlag, resolveTarget } from './targets.js';

/** spec declares `lifeboat snapshots`. */
export const spec: CommandSpec = {
  name: 'snapshots',
  summary: 'List the snapshots stored for a database (or in one replica URL).',
  usage: 'snapshots [flags] DB_PATH\nsnapshots [flags] REPLICA_URL',
  flags: [...CONFIG_FLAGS, REPLICA_FLAG, GENERATION_FLAG],
  minArgs: 1,
  maxArgs: 1,
};

/** run prints the table, by replica, generation and index; listing failures make the exit code 1. */
export async function run(argv: string[]): Promise<number> {
  const { flags, args } = parseArgs(spec, argv);
  const only = parseGenerationFlag(flags.generation);
  const target = await resolveTarget('snapshots', flags, args[0]);
  try {
    const rows = [['replica', 'generation', 'index', 'size', 'created']];
    let code = 0;
    for (const r of target.replicas) {
      try {
        const gens = only !== undefined ? [only] : await listGenerations(r.client);
        for (const g of gens) {
          for (const s of sortSnapshots(await collect(r.client.snapshots(g)))) {
            rows.push([r.name, g, hex8(s.index), String(s.size), formatTime(s.createdAt)]);
          }
        }
      } catch (err) {
        log.error('cannot list snapshots', { replica: r.name, error: errorMessage(err) });
        code = 1;
      }
    }
    process.stdout.write(formatTable(rows));
    return code;
  } finally {
    await target.close();
  }
}
