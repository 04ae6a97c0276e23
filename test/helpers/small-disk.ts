/**
 * small-disk: a real small filesystem (a tmpfs of a few MB) for disk-full and read-only
 * tests. Mounting needs root (CI runs as root); elsewhere the tests that use it skip with
 * the reason printed. Every disk is unmounted after each test, before its directory goes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach } from 'vitest';
import { tmpDir } from './tmp.js';

const mounted: string[] = [];

afterEach(() => {
  for (const dir of mounted.splice(0).reverse()) execFileSync('umount', ['-l', dir]);
});

/** SmallDisk is a mounted tmpfs: fill it to the last byte, free it, or flip it read-only. */
export interface SmallDisk {
  /** dir is the mount point. */
  dir: string;
  /** fill writes a filler file until the disk is full (ENOSPC). */
  fill(): void;
  /** free removes the filler file. */
  free(): void;
  /** readOnly remounts the disk read-only (true) or read-write (false). */
  readOnly(on: boolean): void;
}

/** mountSupport reports whether this process may mount a tmpfs (root, a kernel that allows it). */
export function mountSupport(): { ok: boolean; reason: string } {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'mounting a small tmpfs needs root' };
  const dir = tmpDir('lifeboat-mount-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir]);
    return { ok: true, reason: '' };
  } catch (err) {
    return { ok: false, reason: `mount -t tmpfs failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}` };
  }
}

/**
 * requireMount says whether the small-disk tests can run. Where they cannot, it prints the
 * reason and returns false (the tests skip) — unless CI=true, where it throws (they must run).
 */
export function requireMount(): boolean {
  const { ok, reason } = mountSupport();
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true but the disk-full tests cannot run: ${reason}`);
  console.warn(`skipping disk-full and read-only tests: ${reason}`);
  return false;
}

/** smallDisk mounts a tmpfs of `bytes` on a new temporary directory. */
export function smallDisk(bytes: number): SmallDisk {
  const dir = tmpDir('lifeboat-disk-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
  mounted.push(dir);
  const filler = path.join(dir, '.filler');
  return {
    dir,
    fill() {
      const fd = fs.openSync(filler, 'a');
      const chunk = Buffer.alloc(4096, 0x5a);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        fs.closeSync(fd);
      }
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    readOnly(on) {
      execFileSync('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, dir]);
    },
  };
}
