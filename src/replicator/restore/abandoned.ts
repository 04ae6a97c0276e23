/**
 * abandoned: build directories left beside an output by a restore that was killed (SIGKILL,
 * out of memory, power loss) before it could clean up. They can hold a partial database and
 * queued WAL as large as the restore itself. Each build directory names its owner in
 * `owner` — boot id, host name, PID namespace, pid and start time of the restoring process —
 * and a later restore to the same output removes those whose owner is provably gone:
 *
 * - same boot, same PID namespace: the pid is gone, or now belongs to a later process;
 * - same host name, another boot: the machine restarted since.
 *
 * Anything else (another container or machine sharing the volume, no `owner` file, no
 * /proc) is left alone: it may be a restore in progress elsewhere.
 */
import { fs } from '../../builtin.js';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../log.js';
import { statFields } from '../../proc.js';

/** OWNER_FILE is the name of the owner record inside a build directory. */
export const OWNER_FILE = 'owner';

/** Owner identifies one process across boots, hosts and PID namespaces. */
export interface Owner {
  boot: string;
  host: string;
  pidns: string;
  pid: number;
  start: string;
}

/** ownerOf reads the identity of process `pid` from /proc; undefined when it is gone or there is no /proc. */
export function ownerOf(pid: number): Owner | undefined {
  const start = statFields(pid)?.[19];
  if (start === undefined) return undefined;
  try {
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidns = fs.readlinkSync('/proc/self/ns/pid');
    return { boot, host: os.hostname(), pidns, pid, start };
  } catch {
    return undefined;
  }
}

/** claimBuildDir records this process as the owner of build directory `dir` (whole or not at all: tmp + rename). */
export async function claimBuildDir(dir: string): Promise<void> {
  const me = ownerOf(process.pid);
  if (!me) return;
  const file = path.join(dir, OWNER_FILE);
  await fsp.writeFile(`${file}.tmp`, `${JSON.stringify(me)}\n`);
  await fsp.rename(`${file}.tmp`, file);
}

/** isAbandoned decides from an owner record and this process's identity (see the rules above). */
export function isAbandoned(owner: Owner, me: Owner, current: (pid: number) => Owner | undefined = ownerOf): boolean {
  if (owner.boot === me.boot) {
    if (owner.pidns !== me.pidns) return false;
    const now = current(owner.pid);
    return now === undefined || now.start !== owner.start;
  }
  return owner.host === me.host;
}

/** removeAbandoned deletes the build directories beside `out` whose owner is gone; returns their paths. */
export async function removeAbandoned(out: string, logger: Logger): Promise<string[]> {
  const me = ownerOf(process.pid);
  if (!me) return [];
  const dir = path.dirname(out);
  const prefix = `.${path.basename(out)}.restore-`;
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => n.startsWith(prefix))) {
    const p = path.join(dir, name);
    const owner = await readOwner(p);
    if (!owner || !isAbandoned(owner, me)) continue;
    await fsp.rm(p, { recursive: true, force: true });
    logger.warn('removed the build directory of an interrupted restore', { path: p, pid: owner.pid });
    removed.push(p);
  }
  return removed;
}

async function readOwner(dir: string): Promise<Owner | undefined> {
  try {
    const o = JSON.parse(await fsp.readFile(path.join(dir, OWNER_FILE), 'utf8')) as Partial<Owner>;
    if (typeof o.boot !== 'string' || typeof o.host !== 'string' || typeof o.pidns !== 'string' || typeof o.pid !== 'number' || typeof o.start !== 'string') return undefined;
    return o as Owner;
  } catch {
    return undefined;
  }
}
