/**
 * container-env: the init saves the container's environment where s6-overlay does, for
 * `with-contenv` (bin/with-contenv) and for scripts that read or add variables there. The
 * format is s6's envdir: one file per variable, named by it, holding its value and a
 * newline (s6-dumpenv -N), which s6-envdir -Lf — s6-overlay v3's with-contenv — and ours
 * read back exactly (an empty value stays set, as an empty variable).
 * A directory is replaced at every boot (a restarted container keeps /run) — only when it
 * is empty or holds our marker file, never a directory of something else's (a knob set to
 * /data by mistake); one reached through a symlink to another (Debian's /var/run → /run) is
 * written once.
 */
import { fs } from '../builtin.js';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * saveContainerEnv writes `env` into each of `dirs` (dir 0700, files 0600: the environment
 * holds the container's secrets; every child of the init runs as its user). A failure is
 * one warning naming the directory; the boot goes on (with-contenv then keeps the
 * environment it is given). Returns the directories written.
 */
export function saveContainerEnv(dirs: readonly string[], env: NodeJS.ProcessEnv, log: Logger): string[] {
  const written: string[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    const real = resolveThroughLinks(dir);
    if (seen.has(real)) continue;
    seen.add(real);
    try {
      writeEnvDir(dir, env);
      written.push(dir);
    } catch (err) {
      log.warn('cannot save the container environment: with-contenv keeps the environment it is given', { dir, error: errorMessage(err) });
    }
  }
  if (written.length > 0) log.debug('container environment saved', { dirs: written.join(','), variables: Object.keys(env).length });
  return written;
}

/** ENVDIR_MARKER marks a directory the init wrote (a dotfile: s6-envdir and with-contenv skip it). */
export const ENVDIR_MARKER = '.lifeboat-container-environment';

/** writeEnvDir replaces `dir` with one file per variable of `env`; names a file cannot hold are skipped. */
export function writeEnvDir(dir: string, env: NodeJS.ProcessEnv): void {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (entries.length > 0 && !entries.includes(ENVDIR_MARKER)) throw new Error(`${dir} holds files the init did not write: not replacing it`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.writeFileSync(path.join(dir, ENVDIR_MARKER), '', { mode: 0o600 });
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !isEnvdirName(name)) continue;
    fs.writeFileSync(path.join(dir, name), `${value}\n`, { mode: 0o600 });
  }
}

/** isEnvdirName: a name s6-envdir reads back — not empty, no `/` or `=`, not starting with a dot. */
function isEnvdirName(name: string): boolean {
  return name !== '' && !name.startsWith('.') && !/[/=\0]/.test(name);
}

/** resolveThroughLinks resolves the symlinks of the longest existing prefix of `p`. */
function resolveThroughLinks(p: string): string {
  const abs = path.resolve(p);
  for (let dir = abs, rest = ''; ; rest = path.join(path.basename(dir), rest), dir = path.dirname(dir)) {
    try {
      return path.join(fs.realpathSync(dir), rest);
    } catch {
      if (dir === path.dirname(dir)) return abs;
    }
  }
}
