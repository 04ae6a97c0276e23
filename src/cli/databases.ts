/** databases: `lifeboat databases [flags]` lists the config's databases and their replicas' names (path, replicas). */
import { parseArgs, type CommandSpec } from './args.js';
import { CONFIG_FLAGS, loadCommandConfig } from './common.js';
import { formatTable } from './listing.js';

/** spec declares `lifeboat databases`. */
export const spec: CommandSpec = {
  name: 'databases',
  summary: 'List the databases in the config file and their replicas.',
  usage: 'databases [flags]',
  flags: [...CONFIG_FLAGS],
  maxArgs: 0,
};

/** run prints `path  replicas` rows, replica names joined by commas. */
export async function run(argv: string[]): Promise<number> {
  const { flags } = parseArgs(spec, argv);
  const config = (await loadCommandConfig(flags))!;
  const rows = [['path', 'replicas'], ...config.dbs.map((d) => [d.path, d.replicas.map((r) => r.name).join(',')])];
  process.stdout.write(formatTable(rows));
  return 0;
}
