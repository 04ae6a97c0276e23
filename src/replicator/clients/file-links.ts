/**
 * file-links: the file replica's check that the folders of its layout (`generations`, a
 * generation, `snapshots`, `wal`) are not symbolic links, with each folder's answer shared
 * for a short while: a restore reading hundreds of segments at once looks at each folder
 * once, not three times per segment. A swap within that window is the same race as one
 * between a look and the open that follows it. Writes and deletes look afresh every time
 * (`fresh`): they happen once per sync, and one through a link would change files outside
 * the replica.
 */
import fsp from 'node:fs/promises';

/** LINK_CHECK_TTL_MS is how long one look at a folder answers for it. */
export const LINK_CHECK_TTL_MS = 1000;

/** LinkFound is a folder of the layout that is a symbolic link; the message names it and its target. */
export class LinkFound extends Error {}

/** FolderLooks looks at folders with lstat, sharing each look (in flight or done) for LINK_CHECK_TTL_MS. */
export class FolderLooks {
  readonly #looks = new Map<string, { at: number; look: Promise<boolean> }>();

  /**
   * folder resolves true for a real directory (or anything but a link), false for a
   * missing one (not remembered), and rejects with LinkFound for a link, or the lstat error.
   * `fresh`: look now, whatever was seen before (the new look is then the one shared).
   */
  folder(abs: string, fresh = false): Promise<boolean> {
    const now = Date.now();
    const seen = this.#looks.get(abs);
    if (!fresh && seen && now - seen.at < LINK_CHECK_TTL_MS) return seen.look;
    const look = lookAt(abs);
    this.#looks.set(abs, { at: now, look });
    const forget = (): void => {
      if (this.#looks.get(abs)?.look === look) this.#looks.delete(abs);
    };
    look.then((exists) => exists || forget(), forget);
    return look;
  }
}

async function lookAt(abs: string): Promise<boolean> {
  let link: boolean;
  try {
    link = (await fsp.lstat(abs)).isSymbolicLink();
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return false;
    throw err;
  }
  if (!link) return true;
  const target = await fsp.readlink(abs).catch(() => '?');
  throw new LinkFound(`${abs} is a symbolic link (to ${target}): a file replica does not follow links out of its directory`);
}
