/**
 * reaper: reap orphaned descendants that are re-parented to the init, as PID 1 (the
 * kernel gives them to us) or as a child subreaper elsewhere (Fly.io), through our small
 * addon `native/reaper.c`.
 *
 * Coexisting with libuv: libuv waits for the children that child_process spawned, and
 * must keep getting their exit codes, so we never `waitpid(-1)`. Every pid child_process
 * spawns (ours and libraries') is tracked by wrapping ChildProcess.prototype.spawn at
 * startup; on SIGCHLD and on a timer we list our children in /proc and `waitpid(pid,
 * WNOHANG)` only untracked ones that are zombies. Caveat: a child created outside
 * child_process (by another native addon) would be reaped here by mistake.
 */
import { ChildProcess } from 'node:child_process';
import type { Logger } from '../log.js';
import { ADDON_PATH, loadAddon, type NativeAddon } from '../native.js';
import { childrenOf, processState } from '../proc.js';

/** REAP_INTERVAL is the fallback scan period, for SIGCHLDs merged or missed. */
export const REAP_INTERVAL = 1_000;

/** ReaperRole is how orphans reach us: as PID 1, as a subreaper, or not at all (no addon). */
export type ReaperRole = 'pid1' | 'subreaper' | 'none';

const tracked = new Set<number>();
let wrapped = false;

/** trackSpawns records every pid child_process spawns until its exit; idempotent. Returns the live set. */
export function trackSpawns(): ReadonlySet<number> {
  if (wrapped) return tracked;
  wrapped = true;
  // spawn() is a public method at run time though @types/node does not declare it.
  const proto = ChildProcess.prototype as unknown as { spawn: (this: ChildProcess, ...args: unknown[]) => unknown };
  const original = proto.spawn;
  proto.spawn = function (this: ChildProcess, ...args: unknown[]) {
    const result = original.apply(this, args);
    const pid = this.pid;
    if (pid !== undefined) {
      tracked.add(pid);
      this.once('exit', () => tracked.delete(pid));
    }
    return result;
  };
  return tracked;
}

/** Reaper reaps untracked zombie children until stopped. */
export class Reaper {
  /** reaped counts the orphans reaped so far. */
  reaped = 0;
  private timer?: NodeJS.Timeout;
  private pending = false;
  private readonly onChild = (): void => this.soon();

  private constructor(
    readonly role: ReaperRole,
    private readonly addon: NativeAddon | undefined,
    private readonly log: Logger,
  ) {}

  /** start tracks spawns, becomes a subreaper unless PID 1, and scans on SIGCHLD and every REAP_INTERVAL. */
  static start(log: Logger, addonFile = ADDON_PATH): Reaper {
    trackSpawns();
    const { addon, error } = loadAddon(addonFile);
    if (!addon) {
      log.warn('reaper addon not loaded: orphaned processes will not be reaped', { error });
      return new Reaper('none', undefined, log);
    }
    const role: ReaperRole = process.pid === 1 ? 'pid1' : 'subreaper';
    if (role === 'subreaper') addon.setChildSubreaper();
    const reaper = new Reaper(role, addon, log);
    process.on('SIGCHLD', reaper.onChild);
    reaper.timer = setInterval(() => reaper.scan(), REAP_INTERVAL).unref();
    return reaper;
  }

  /** scan reaps every untracked zombie child now; returns how many it reaped. */
  scan(): number {
    this.pending = false;
    if (!this.addon) return 0;
    let n = 0;
    for (const pid of childrenOf('self')) {
      if (tracked.has(pid) || processState(pid) !== 'Z') continue;
      const status = this.addon.reap(pid);
      if (!status) continue;
      n++;
      this.log.debug('reaped orphan', { pid, code: status.code, signal: status.signal || undefined });
    }
    this.reaped += n;
    return n;
  }

  /** stop ends the scanning (the tracking of spawns stays). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    process.off('SIGCHLD', this.onChild);
  }

  private soon(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => this.scan());
  }
}
