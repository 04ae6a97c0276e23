/**
 * file: the directory backend of ReplicaClient. The layout maps onto directories under
 * `root`; a write goes to `<name>.tmp`, is fsynced, renamed into place and its directory
 * fsynced, so a reader never sees a partial file and a crash leaves at most a `.tmp`
 * (ignored by listings, overwritten by the next write of that name). Large bodies stream
 * through; an object of 1 MB or less is read whole, in one read.
 */
import { randomHex } from '../../random.js';
import type { BigIntStats, Dirent } from 'node:fs';
import { fs } from '../../builtin.js';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { ReplicaError } from '../../errors.js';
import { fsyncDir } from '../../fsync.js';
import { GENERATIONS_DIR, claimsKey, generationKey, isClaimName, isLegacyWALName, parseSnapshotName, parseWALSegmentName, snapshotKey, snapshotsKey, walKey, walSegmentKey } from '../layout.js';
import { isGeneration, type Pos } from '../pos.js';
import type { ReadBody, ReplicaClient, SnapshotInfo, WALSegmentInfo, WriteBody } from '../replica-client.js';
import { checkGeneration, claimKey, LEGACY_LAYOUT_MESSAGE } from './common.js';
import { FolderLooks, LinkFound } from './file-links.js';

/**
 * READ_CHUNK: an object of this many bytes or fewer is read whole, in one positional read
 * (no stream machinery per object); a larger one streams through in reads of this size.
 * Either way a read holds at most this much.
 */
const READ_CHUNK = 1 << 20;

/** STAT_BATCH is how many files a listing stats at once. */
const STAT_BATCH = 64;

/** DELETE_CONCURRENCY bounds parallel unlinks. */
const DELETE_CONCURRENCY = 32;

/** Stored is what a listing tells of a stored file: its size and when it was last written. */
interface Stored {
  size: number;
  createdAt: Date;
}

/**
 * storedOf reads a file's size and mtime from nanosecond stats, the mtime cut (not rounded)
 * to the millisecond: Node's own `mtime` rounds, so a file written in a second's last half
 * millisecond would list in the next second, where Litestream (and Go's RFC 3339) says the
 * one it was written in.
 */
function storedOf(st: BigIntStats): Stored {
  return { size: Number(st.size), createdAt: new Date(Number(st.mtimeNs / 1_000_000n)) };
}

/** isMissingFileReplica reports a file replica whose directory does not exist (a mistyped path lists as empty). */
export function isMissingFileReplica(client: ReplicaClient): boolean {
  return client instanceof FileReplicaClient && !fs.existsSync(client.root);
}

/** FileReplicaClient stores a replica in directory `root`. */
export class FileReplicaClient implements ReplicaClient {
  readonly type = 'file';
  readonly location: string;
  /** looks: the shared looks at the layout's folders (refuseLinks). */
  readonly #looks = new FolderLooks();

  constructor(readonly root: string) {
    this.location = root;
  }

  async generations(signal?: AbortSignal): Promise<string[]> {
    signal?.throwIfAborted();
    const entries = await this.readdir(GENERATIONS_DIR);
    return entries.filter((e) => e.isDirectory() && isGeneration(e.name)).map((e) => e.name);
  }

  async *snapshots(generation: string, signal?: AbortSignal): AsyncIterable<SnapshotInfo> {
    signal?.throwIfAborted();
    const dir = snapshotsKey(checkGeneration('list', generation));
    for (const e of await this.readdir(dir)) {
      signal?.throwIfAborted();
      const index = parseSnapshotName(e.name);
      if (index === undefined || !e.isFile()) continue;
      const st = await this.stat('list', `${dir}/${e.name}`);
      if (st) yield { generation, index, ...st };
    }
  }

  async *walSegments(generation: string, signal?: AbortSignal): AsyncIterable<WALSegmentInfo> {
    signal?.throwIfAborted();
    const dir = walKey(checkGeneration('list', generation));
    const entries = await this.readdir(dir);
    if (entries.some((e) => isLegacyWALName(e.name))) throw new ReplicaError('list', dir, LEGACY_LAYOUT_MESSAGE);
    const files = entries.flatMap((e) => {
      const parsed = e.isFile() ? parseWALSegmentName(e.name) : undefined;
      return parsed ? [{ name: e.name, parsed }] : [];
    });
    // Stats in batches: a generation may hold thousands of segments.
    for (let i = 0; i < files.length; i += STAT_BATCH) {
      signal?.throwIfAborted();
      const batch = files.slice(i, i + STAT_BATCH);
      const stats = await Promise.all(batch.map((f) => this.stat('list', `${dir}/${f.name}`)));
      for (const [k, st] of stats.entries()) if (st) yield { generation, ...batch[k].parsed, ...st };
    }
  }

  async writeSnapshot(generation: string, index: number, body: WriteBody, signal?: AbortSignal): Promise<SnapshotInfo> {
    const st = await this.write('write snapshot', snapshotKey(checkGeneration('write snapshot', generation), index), body, signal);
    return { generation, index, ...st };
  }

  async readSnapshot(generation: string, index: number, signal?: AbortSignal): Promise<ReadBody> {
    return this.read('read snapshot', snapshotKey(checkGeneration('read snapshot', generation), index), signal);
  }

  async writeWALSegment(pos: Pos, body: WriteBody, signal?: AbortSignal): Promise<WALSegmentInfo> {
    const rel = walSegmentKey(checkGeneration('write wal', pos.generation), pos.index, pos.offset);
    const st = await this.write('write wal', rel, body, signal);
    return { generation: pos.generation, index: pos.index, offset: pos.offset, ...st };
  }

  async readWALSegment(pos: Pos, signal?: AbortSignal): Promise<ReadBody> {
    return this.read('read wal', walSegmentKey(checkGeneration('read wal', pos.generation), pos.index, pos.offset), signal);
  }

  async deleteSnapshot(generation: string, index: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await this.unlink('delete snapshot', snapshotKey(checkGeneration('delete snapshot', generation), index));
  }

  async deleteWALSegments(positions: Pos[], signal?: AbortSignal): Promise<void> {
    const rels = positions.map((p) => walSegmentKey(checkGeneration('delete wal', p.generation), p.index, p.offset));
    for (let i = 0; i < rels.length; i += DELETE_CONCURRENCY) {
      signal?.throwIfAborted();
      await Promise.all(rels.slice(i, i + DELETE_CONCURRENCY).map((rel) => this.unlink('delete wal', rel)));
    }
  }

  async claims(generation: string, signal?: AbortSignal): Promise<string[]> {
    signal?.throwIfAborted();
    const entries = await this.readdir(claimsKey(checkGeneration('list claims', generation)));
    return entries.filter((e) => e.isFile() && isClaimName(e.name)).map((e) => e.name);
  }

  /** createClaim writes a temp file durably, then hard-links it into place: link() fails with EEXIST, never replaces. */
  async createClaim(generation: string, name: string, body: Uint8Array, signal?: AbortSignal): Promise<boolean> {
    signal?.throwIfAborted();
    const rel = claimKey('create claim', generation, name);
    const file = this.path(rel);
    const tmp = `${file}.${process.pid}.${randomHex(4)}.tmp`;
    try {
      await mkdirDurable(path.dirname(file));
      const fh = await fsp.open(tmp, 'wx');
      try {
        await writeAll(fh, body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      try {
        await fsp.link(tmp, file);
      } catch (err) {
        if (errCode(err) === 'EEXIST') return false;
        throw err;
      }
      await fsyncDir(path.dirname(file));
      return true;
    } catch (err) {
      throw new ReplicaError('create claim', rel, err);
    } finally {
      await fsp.rm(tmp, { force: true }).catch(() => {});
    }
  }

  async readClaim(generation: string, name: string, signal?: AbortSignal): Promise<Buffer> {
    signal?.throwIfAborted();
    const rel = claimKey('read claim', generation, name);
    try {
      return await fsp.readFile(this.path(rel));
    } catch (err) {
      throw new ReplicaError('read claim', rel, errCode(err) === 'ENOENT' ? 'not found' : err, { notFound: errCode(err) === 'ENOENT' });
    }
  }

  async deleteClaim(generation: string, name: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await this.unlink('delete claim', claimKey('delete claim', generation, name));
  }

  async deleteGeneration(generation: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const rel = generationKey(checkGeneration('delete', generation));
    try {
      await fsp.rm(this.path(rel), { recursive: true, force: true });
    } catch (err) {
      throw new ReplicaError('delete', rel, err);
    }
  }

  async close(): Promise<void> {}

  /** path maps a layout key onto the filesystem. */
  private path(rel: string): string {
    return path.join(this.root, ...rel.split('/'));
  }

  /**
   * refuseLinks fails `op` on `rel` when a folder of the layout on its way (`generations`,
   * a generation, `snapshots`, `wal`) is a symbolic link: reading or writing through it
   * would leave the replica's directory (the root itself may be a link: that is the
   * user's choice of where the replica lives). Looks are shared (file-links.ts).
   */
  private async refuseLinks(op: string, rel: string, self = false, fresh = false): Promise<void> {
    const parts = rel.split('/');
    const upTo = self ? parts.length : parts.length - 1;
    for (let i = 1; i <= upTo; i++) {
      let exists: boolean;
      try {
        exists = await this.#looks.folder(this.path(parts.slice(0, i).join('/')), fresh);
      } catch (err) {
        throw new ReplicaError(op, rel, err instanceof LinkFound ? err.message : err);
      }
      if (!exists) return;
    }
  }

  /** readdir lists a layout folder; a missing one is empty. */
  private async readdir(rel: string): Promise<Dirent[]> {
    await this.refuseLinks('list', rel, true);
    try {
      return await fsp.readdir(this.path(rel), { withFileTypes: true });
    } catch (err) {
      if (errCode(err) === 'ENOENT') return [];
      throw new ReplicaError('list', rel, err);
    }
  }

  /** stat returns a file's size and mtime, or undefined if it vanished since the listing. */
  private async stat(op: string, rel: string): Promise<Stored | undefined> {
    await this.refuseLinks(op, rel);
    try {
      return storedOf(await fsp.stat(this.path(rel), { bigint: true }));
    } catch (err) {
      if (errCode(err) === 'ENOENT') return undefined;
      throw new ReplicaError(op, rel, err);
    }
  }

  /** read returns a stored object's bytes: whole up to READ_CHUNK, else as a stream. */
  private async read(op: string, rel: string, signal?: AbortSignal): Promise<ReadBody> {
    signal?.throwIfAborted();
    await this.refuseLinks(op, rel);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(this.path(rel), 'r');
    } catch (err) {
      if (errCode(err) === 'ENOENT') throw new ReplicaError(op, rel, 'not found', { notFound: true });
      throw new ReplicaError(op, rel, err);
    }
    let whole: Buffer | undefined;
    try {
      const size = (await fh.stat()).size;
      if (size <= READ_CHUNK) {
        whole = await readWhole(fh, size);
        await fh.close();
      }
    } catch (err) {
      await fh.close().catch(() => {});
      if (signal?.aborted) throw signal.reason;
      throw new ReplicaError(op, rel, err, { midRead: true });
    }
    if (whole) {
      signal?.throwIfAborted();
      return whole;
    }
    // The stream owns the handle from here: it closes it at the end, on an error, and when
    // the reader destroys it early (a generator over the handle would not run its `finally`
    // if never started, leaving the handle to the garbage collector: an error in Node 26).
    const stream = fh.createReadStream({ highWaterMark: READ_CHUNK });
    return signal ? addAbortSignal(signal, stream) : stream;
  }

  /** write stores `body` at `rel` durably: tmp file, fsync, rename, fsync of the directory. */
  private async write(op: string, rel: string, body: WriteBody, signal?: AbortSignal): Promise<Stored> {
    signal?.throwIfAborted();
    await this.refuseLinks(op, rel, false, true);
    const file = this.path(rel);
    const tmp = `${file}.tmp`;
    try {
      await mkdirDurable(path.dirname(file));
      const fh = await fsp.open(tmp, 'w');
      try {
        if (body instanceof Uint8Array) await writeAll(fh, body);
        else await writeStream(fh, signal ? addAbortSignal(signal, body) : body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, file);
      await fsyncDir(path.dirname(file));
      return storedOf(await fsp.stat(file, { bigint: true }));
    } catch (err) {
      await fsp.rm(tmp, { force: true }).catch(() => {});
      if (signal?.aborted) throw signal.reason;
      throw new ReplicaError(op, rel, err);
    }
  }

  private async unlink(op: string, rel: string): Promise<void> {
    await this.refuseLinks(op, rel, false, true);
    try {
      await fsp.unlink(this.path(rel));
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw new ReplicaError(op, rel, err);
    }
  }
}

/** readWhole reads the first `size` bytes of an open file (fewer if it ends before). */
async function readWhole(fh: fsp.FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let n = 0;
  while (n < size) {
    const { bytesRead } = await fh.read(buf, n, size - n, n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return n === size ? buf : buf.subarray(0, n);
}

function errCode(err: unknown): unknown {
  return err instanceof Error && 'code' in err ? err.code : undefined;
}

/** writeAll writes every byte of `buf` at the handle's position. */
async function writeAll(fh: fsp.FileHandle, buf: Uint8Array): Promise<void> {
  for (let off = 0; off < buf.byteLength; ) off += (await fh.write(buf, off)).bytesWritten;
}

/** writeStream writes a stream's chunks in order (each awaited: the source is read no faster than the disk takes it). */
async function writeStream(fh: fsp.FileHandle, body: Readable): Promise<void> {
  for await (const chunk of body) await writeAll(fh, typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array));
}

/** mkdirDurable creates `dir` and its missing parents, fsyncing the parent of each new directory. */
async function mkdirDurable(dir: string): Promise<void> {
  const first = await fsp.mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    await fsyncDir(d);
    if (d === path.dirname(first) || d === path.dirname(d)) break;
  }
}
