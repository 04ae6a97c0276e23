/**
 * init-s6: the init's steps that exist for s6-overlay trees — S6_STAGE2_HOOK before the
 * boot, the v3 tree brought up within S6_CMD_WAIT_FOR_SERVICES_MAXTIME with
 * S6_BEHAVIOUR_IF_STAGE2_FAILS deciding what a failure does, and S6_SYNC_DISKS at the end.
 */
import { spawnSync } from 'node:child_process';
import { fs } from '../builtin.js';
import { nowMs } from '../clock.js';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Knobs } from './knobs.js';
import { failed, runOneshot } from './oneshot.js';
import type { S6rcTree, S6rcRunOptions } from './s6rc-run.js';
import { splitShellWords } from './shell-words.js';
import { describeExit, type SignalMode } from './signals.js';

/** runStage2Hook runs S6_STAGE2_HOOK (split into words, as s6-overlay's `$hook`); a failure is only a warning, as there. */
export async function runStage2Hook(knobs: Knobs, abort: AbortSignal, log: Logger): Promise<void> {
  const hook = knobs.stage2Hook;
  if (!hook) return;
  const r = await runOneshot(splitShellWords(hook), { name: 'S6_STAGE2_HOOK', prefix: knobs.logPrefix, abort });
  if (failed(r)) log.warn('S6_STAGE2_HOOK failed: continuing', { hook, ...(r.error ? { error: r.error } : describeExit(r)) });
}

/**
 * signalMode: s6-overlay's meanings of the signals when the image has a v3 tree (`s6-rc.d/`
 * under the s6-overlay dir), Lifeboat's otherwise; S6_CMD_RECEIVE_SIGNALS either way.
 */
export function signalMode(knobs: Knobs): SignalMode {
  return { s6: hasS6rcTree(knobs), cmdReceivesSignals: knobs.cmdReceivesSignals };
}

/** hasS6rcTree reports whether the image has a v3 tree: `s6-rc.d/` under the s6-overlay dir. */
function hasS6rcTree(knobs: Knobs): boolean {
  return fs.existsSync(path.join(knobs.s6OverlayDir, 's6-rc.d'));
}

/** S6rcStart is the tree (when there is one) and the failure that stops the boot, if any. */
export interface S6rcStart {
  tree?: S6rcTree;
  failure?: string;
}

/**
 * startS6rc reads and brings up the v3 tree, bounded by what is left of
 * S6_CMD_WAIT_FOR_SERVICES_MAXTIME since `t0` (else LIFEBOAT_READY_TIMEOUT). A bad tree
 * fails the boot; a service that fails or is late goes by LIFEBOAT_BEHAVIOUR_IF_INIT_FAILS
 * (S6_BEHAVIOUR_IF_STAGE2_FAILS): 2 stops the container, 1 warns, 0 carries on.
 */
export async function startS6rc(knobs: Knobs, t0: number, opts: Omit<S6rcRunOptions, 'prefix' | 'downGraceMs'> & { onTree?: (tree: S6rcTree) => void }): Promise<S6rcStart> {
  // The tree's code (reading, planning, running: ~1 MB resident) is loaded only for a tree.
  if (!hasS6rcTree(knobs)) return {};
  let def;
  let S6rcTree;
  try {
    const [dir, run] = await Promise.all([import('./s6rc-dir.js'), import('./s6rc-run.js')]);
    S6rcTree = run.S6rcTree;
    def = dir.readS6rcTree(knobs.s6OverlayDir, dir.findExeclineb(), opts.log);
  } catch (err) {
    return { failure: errorMessage(err) };
  }
  if (!def || def.plan.order.length === 0) return {};
  const tree = new S6rcTree(def, { ...opts, prefix: knobs.logPrefix, downGraceMs: knobs.servicesGrace });
  opts.onTree?.(tree);
  const limit = knobs.bootTimeout ?? knobs.readyTimeout;
  const knob = knobs.bootTimeout ? 'S6_CMD_WAIT_FOR_SERVICES_MAXTIME' : 'LIFEBOAT_READY_TIMEOUT';
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`s6-rc services not up within ${limit} ms (${knob})`), Math.max(0, limit - (nowMs() - t0)))));
  const failure = await Promise.race([tree.start(), late]);
  clearTimeout(timer);
  if (!failure || opts.abort.aborted || knobs.behaviourIfInitFails === 0) return { tree };
  if (knobs.behaviourIfInitFails === 1) opts.log.warn(`${failure}: continuing`);
  return knobs.behaviourIfInitFails === 2 ? { tree, failure } : { tree };
}

/** syncDisks runs sync(1) (S6_SYNC_DISKS); a failure is logged. */
export function syncDisks(log: Logger): void {
  const r = spawnSync('sync', { stdio: 'ignore', timeout: 30_000 });
  if (r.error || r.status !== 0) log.warn('sync failed (S6_SYNC_DISKS)', { error: r.error?.message ?? `exit ${r.status}` });
  else log.info('file systems synced (S6_SYNC_DISKS)');
}

/**
 * noteFixAttrs names s6-overlay v2's fix-attrs.d once when it holds files: Lifeboat does not
 * read it (scripts are made executable as s6-overlay does, script.ts; ownership is the
 * image's to set).
 */
export function noteFixAttrs(dir: string, log: Logger): void {
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return;
  }
  if (files.length > 0) log.info('fix-attrs.d is not read: set ownership and modes in the image instead (docs/migrating-from-s6-overlay.md)', { dir, files: files.length });
}
