/**
 * builtin: the seam with the replicator. The init runs it through our own CLI as child
 * processes, so the init stays small and a replicator crash cannot take it down:
 *   - restore on boot: `restore -if-db-not-exists -if-replica-exists` per missing database;
 *   - the replicator service: `replicate -notify-fd 3`, ready on a newline on fd 3, a final
 *     sync on SIGTERM (exit 0 only when every replica holds every committed transaction).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { checkWriterLock } from '../replicator/writer-lock.js';
import type { Knobs } from './knobs.js';
import { failed, runOneshot } from './oneshot.js';
import type { ServiceDef } from './service-dir.js';
import { describeExit } from './signals.js';

/** MAIN_JS is the CLI entry point, beside this module's directory (dist/ and the image alike). */
export const MAIN_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli/main.js');

/** REPLICATOR_NAME names the built-in replicator service (and its output prefix). */
export const REPLICATOR_NAME = 'replicate';

/** REPLICATOR_NOTIFY_FD is the fd on which the replicator reports readiness. */
export const REPLICATOR_NOTIFY_FD = 3;

/** cliCommand is argv running `lifeboat <args>` with this Node. */
export function cliCommand(...args: string[]): string[] {
  return [process.execPath, MAIN_JS, ...args];
}

/** replicatorDef is the built-in replicator as a service: stopped by SIGTERM, SIGKILL after LIFEBOAT_SYNC_GRACETIME. */
export function replicatorDef(configPath: string, knobs: Knobs, flags: string[] = []): ServiceDef {
  return {
    name: REPLICATOR_NAME,
    command: cliCommand('replicate', '-config', configPath, ...flags, '-notify-fd', String(REPLICATOR_NOTIFY_FD)),
    cwd: process.cwd(),
    down: false,
    notificationFd: REPLICATOR_NOTIFY_FD,
    timeoutKill: knobs.syncGrace,
    timeoutFinish: 0,
    downSignal: 'SIGTERM',
    essential: false,
  };
}

/** RestoreOptions carry the output setting and the init's stop signal. */
export interface RestoreOptions {
  log: Logger;
  prefix: boolean;
  abort: AbortSignal;
  /** flags are passed on to `restore` (e.g. `-no-expand-env`). */
  flags?: string[];
}

/**
 * restoreMissing restores every database of `config` whose file is missing, in parallel;
 * resolves undefined when all are restored or have no replica yet, else the failure.
 */
export async function restoreMissing(config: Config, configPath: string, opts: RestoreOptions): Promise<string | undefined> {
  const missing = config.dbs.filter((db) => !fs.existsSync(db.path));
  const failures = await Promise.all(missing.map((db) => restoreOne(db.path, configPath, opts)));
  return failures.find((f) => f !== undefined);
}

async function restoreOne(dbPath: string, configPath: string, opts: RestoreOptions): Promise<string | undefined> {
  opts.log.info('restoring database', { db: dbPath });
  const flags = opts.flags ?? [];
  const argv = cliCommand('restore', '-config', configPath, ...flags, '-if-db-not-exists', '-if-replica-exists', dbPath);
  const r = await runOneshot(argv, { name: 'restore', prefix: opts.prefix, abort: opts.abort });
  if (!failed(r)) return undefined;
  const how = r.error ?? Object.entries(describeExit(r)).map(([k, v]) => `${k} ${v}`).join(' ');
  return `restore ${dbPath}: ${how}`;
}

/**
 * otherWriter returns the failure when another process already replicates one of the
 * config's databases (a second init or `replicate` on them), else undefined: checked
 * before the restore, so a second init touches nothing.
 */
export function otherWriter(config: Config): string | undefined {
  for (const db of config.dbs) {
    try {
      checkWriterLock(db.path);
    } catch (err) {
      return (err as Error).message;
    }
  }
  return undefined;
}
