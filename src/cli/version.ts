/** version: `lifeboat version` (also `lifeboat -version` / `--version`) prints `lifeboat v<version>`. */
import { fs } from '../builtin.js';
import { parseArgs, type CommandSpec } from './args.js';

/** spec declares `lifeboat version`: no flags, no arguments. */
export const spec: CommandSpec = {
  name: 'version',
  summary: 'Print the Lifeboat version.',
  usage: 'version',
  flags: [],
  maxArgs: 0,
};

/** version reads the package version from package.json (two levels up from src/cli and dist/cli). */
export function version(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** run prints `lifeboat v<version>` to stdout and returns exit code 0. */
export async function run(argv: string[]): Promise<number> {
  parseArgs(spec, argv);
  process.stdout.write(`lifeboat v${version()}\n`);
  return 0;
}
