/**
 * native: our small addon (`native/reaper.c`, built by `npm ci` through node-gyp) — the
 * system calls plain Node cannot make. The init uses it to reap orphans
 * (src/supervisor/reaper.ts), the replicator to hand freed memory back (src/replicator/memory.ts),
 * every command to exit without Node's exit deadlock (src/exit.ts).
 * Everything works without it, with less: it may be missing where no compiler was at hand.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** ADDON_PATH is the built addon, relative to the package root (dist/ or src/ alike). */
export const ADDON_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../build/Release/reaper.node');

/** NativeAddon is the addon's interface (native/reaper.c). */
export interface NativeAddon {
  /** setChildSubreaper makes this process a child subreaper (prctl). */
  setChildSubreaper(): boolean;
  /** reap waits for one child without blocking: its status once reaped, null while it runs or when it is not ours. */
  reap(pid: number): { code: number; signal: number } | null;
  /** trimMemory runs glibc's malloc_trim(0); false when nothing was released or the C library has none. */
  trimMemory(): boolean;
  /**
   * lockHolder reports who holds a lock on SQLite's lock bytes of `file` (fcntl F_GETLK):
   * its pid, -1 when its pid is not visible here, 0 when nobody or the file does not exist.
   * This process's own locks never show. Absent from an addon built before it.
   */
  lockHolder?(file: string): number;
  /** exitNow ends the process at once with `code` (0–255): _exit, no thread joins. Absent from an addon built before it. */
  exitNow?(code: number): never;
}

/** loadAddon loads the addon at `file`; undefined (with the reason) when it cannot. */
export function loadAddon(file = ADDON_PATH): { addon?: NativeAddon; error?: string } {
  try {
    return { addon: createRequire(import.meta.url)(file) as NativeAddon };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0] };
  }
}
