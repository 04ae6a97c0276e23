/** cli: run the built CLI (`dist/cli/main.js`) as a black box, its output captured for the secrets scan. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise, type Options } from 'execa';
import { captureOutput } from './capture.js';

/** ROOT is the repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** CLI is the built entry point; `npm test` builds it first. */
export const CLI = path.join(ROOT, 'dist/cli/main.js');

/** lifeboat runs the built CLI with `args`; it never throws on a non-zero exit. */
export function lifeboat(args: string[], opts: Options = {}): ResultPromise {
  const proc = execa(process.execPath, [CLI, ...args], { reject: false, all: true, ...opts }) as ResultPromise;
  captureOutput(proc, `lifeboat-${args[0] ?? ''}`);
  return proc;
}
