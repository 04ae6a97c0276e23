/**
 * fetch: download and decompress one stored piece into a file — the snapshot into the
 * database file being built, or one WAL segment at its offset in its index's file
 * (assembly.ts verifies the index once all its segments have landed). Nothing is held in
 * memory whole: bodies stream through the LZ4 decoder to positional file writes.
 */
import fsp from 'node:fs/promises';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFrameDecoder, Lz4Error } from '../lz4/index.js';
import type { ReplicaClient, SnapshotInfo, WALSegmentInfo } from '../replica-client.js';
import { snapshotName } from '../layout.js';
import { errorMessage, ReplicaError } from '../../errors.js';
import { CorruptError } from './errors.js';
import type { IndexAssembly } from './assembly.js';

/** FetchCounters is what downloads report as they go: stored (compressed) bytes read, segments done. */
export interface FetchCounters {
  onStored(n: number): void;
  onSegment(): void;
}

/** FetchContext is the replica and generation being read, with the abort signal and counters. */
export interface FetchContext {
  client: ReplicaClient;
  generation: string;
  counters: FetchCounters;
  signal?: AbortSignal;
  /** onRetry is told about each download started over after its body broke off. */
  onRetry?: (piece: string, attempt: number, err: Error) => void;
}

/**
 * BODY_RETRIES: a download whose body breaks off midway (a reset connection, a timeout) is
 * started over this many times, after BODY_BACKOFF_MS, doubling. Requests that fail before
 * a body arrives are retried by the client itself; corrupt data and local write errors
 * are never retried.
 */
export const BODY_RETRIES = 3;
const BODY_BACKOFF_MS = 250;

/** BodyError is a download that broke off while its body was being read. */
class BodyError extends Error {}

/** FetchedSnapshot: the raw size of the snapshot and its page size (from the database header). */
export interface FetchedSnapshot {
  size: number;
  pageSize: number;
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** fetchSnapshot writes the decompressed snapshot to `path` (created or truncated). */
export async function fetchSnapshot(ctx: FetchContext, snapshot: SnapshotInfo, path: string): Promise<FetchedSnapshot> {
  const name = `snapshot ${ctx.generation}/${snapshotName(snapshot.index)}`;
  return startingOver(name, ctx, (c) => fetchSnapshotOnce(c, snapshot, path, name));
}

async function fetchSnapshotOnce(ctx: FetchContext, snapshot: SnapshotInfo, path: string, name: string): Promise<FetchedSnapshot> {
  const fh = await fsp.open(path, 'w');
  let size = 0;
  const head = Buffer.alloc(100);
  try {
    const body = await open(name, () => ctx.client.readSnapshot(ctx.generation, snapshot.index, ctx.signal));
    await decodeInto(name, body, ctx, async (chunk) => {
      if (size < head.length) head.set(chunk.subarray(0, head.length - size), size);
      await writeAll(fh, chunk, size);
      size += chunk.length;
    });
  } finally {
    await fh.close();
  }
  if (size < head.length || !head.subarray(0, 16).equals(SQLITE_MAGIC)) {
    throw new CorruptError(`${name}: not a SQLite database`);
  }
  const raw = head.readUInt16BE(16);
  return { size, pageSize: raw === 1 ? 65536 : raw };
}

/**
 * fetchSegment downloads segment `j` of an index into the index file at the segment's
 * offset; it fails as soon as the segment would run past `a.limit(j)`. Returns its length.
 */
export async function fetchSegment(ctx: FetchContext, a: IndexAssembly, seg: WALSegmentInfo, j: number): Promise<number> {
  const name = `wal segment ${a.key(j)}`;
  const len = await startingOver(name, ctx, (c) => fetchSegmentOnce(c, a, seg, j, name));
  ctx.counters.onSegment();
  return len;
}

async function fetchSegmentOnce(ctx: FetchContext, a: IndexAssembly, seg: WALSegmentInfo, j: number, name: string): Promise<number> {
  const limit = a.limit(j);
  const fh = await a.handle();
  const body = await open(name, () => ctx.client.readWALSegment({ generation: ctx.generation, index: seg.index, offset: seg.offset }, ctx.signal));
  let len = 0;
  await decodeInto(name, body, ctx, async (chunk) => {
    if (len + chunk.length > limit) throw a.overlap(j);
    await writeAll(fh, chunk, seg.offset + len);
    len += chunk.length;
  });
  return len;
}

/**
 * startingOver runs one download, starting it over when its body breaks off (see
 * BODY_RETRIES). The bytes a broken attempt counted are taken back, so the progress and
 * the summary count each stored byte once.
 */
async function startingOver<T>(name: string, ctx: FetchContext, once: (attemptCtx: FetchContext) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let counted = 0;
    const counters: FetchCounters = {
      onStored: (n) => {
        counted += n;
        ctx.counters.onStored(n);
      },
      onSegment: () => ctx.counters.onSegment(),
    };
    try {
      return await once({ ...ctx, counters });
    } catch (err) {
      if (!(err instanceof BodyError) || attempt > BODY_RETRIES || ctx.signal?.aborted) throw err;
      ctx.counters.onStored(-counted);
      ctx.onRetry?.(name, attempt, err);
      await sleep(BODY_BACKOFF_MS * 2 ** (attempt - 1), undefined, { signal: ctx.signal });
    }
  }
}

/** open starts a download, naming the piece in its error. */
async function open(name: string, fn: () => Promise<Readable>): Promise<Readable> {
  try {
    return await fn();
  } catch (err) {
    throw describe(name, err);
  }
}

/** decodeInto streams a stored body through the LZ4 decoder into `sink`, chunk by chunk. */
async function decodeInto(name: string, body: Readable, ctx: FetchContext, sink: (chunk: Buffer) => Promise<void>): Promise<void> {
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      ctx.counters.onStored(chunk.length);
      cb(null, chunk);
    },
  });
  // The sink's own error is the one that matters: pipeline may report the teardown of
  // another stream first.
  let sinkErr: unknown;
  const out = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      sink(chunk).then(
        () => cb(),
        (err: unknown) => {
          sinkErr = err;
          cb(err as Error);
        },
      );
    },
  });
  try {
    // Every decoded byte of a segment is covered by the WAL header's and the frames'
    // chained checksums (checked by the assembly), so LZ4's content checksum is redundant.
    await pipeline(body, count, createFrameDecoder({ verifyContentChecksum: false }), out, { signal: ctx.signal });
  } catch (err) {
    if (sinkErr !== undefined) throw describe(name, sinkErr);
    const e = describe(name, err);
    throw e instanceof CorruptError || e.name === 'AbortError' ? e : new BodyError(e.message, { cause: err });
  }
}

/** describe names the piece in an error: bad LZ4 and verification failures are CorruptError. */
function describe(name: string, err: unknown): Error {
  if (err instanceof CorruptError) return err;
  if (err instanceof Lz4Error) return new CorruptError(`${name}: bad lz4: ${err.message}`, { cause: err });
  if (err instanceof Error && err.name === 'AbortError') return err;
  if (err instanceof ReplicaError && err.notFound) return new CorruptError(`${name}: missing (${err.message})`, { cause: err });
  return new Error(`download ${name}: ${errorMessage(err)}`, { cause: err });
}

/** writeAll writes all of `chunk` at `pos`. */
async function writeAll(fh: fsp.FileHandle, chunk: Buffer, pos: number): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, pos + done);
    done += bytesWritten;
  }
}
