/** paths: `~` expansion and absolute paths, as the reference's `expand()` does. */
import os from 'node:os';
import path from 'node:path';

/** PathContext names the directories that relative and `~` paths resolve against. */
export interface PathContext {
  cwd: string;
  home: string;
}

/** defaultPathContext is the process's working directory and the user's home. */
export function defaultPathContext(): PathContext {
  return { cwd: process.cwd(), home: os.homedir() };
}

/** expandPath turns `~` / `~/x` into the home directory and any other path into an absolute, normalised one. */
export function expandPath(p: string, ctx: PathContext = defaultPathContext()): string {
  if (p === '~') return path.resolve(ctx.home);
  if (p.startsWith('~/')) return path.resolve(ctx.home, p.slice(2));
  return path.resolve(ctx.cwd, p);
}
