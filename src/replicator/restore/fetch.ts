/**
 * fetch: download and decompress one stored piece into a file — the snapshot into the
 * database file being built, or one WAL segment at its offset in its index's file
 * (assembly.ts verifies the index once all its segments have landed). Nothing large is
 * held in memory whole: bodies stream through the LZ4 decoder to positional file writes,
 * or arrive whole when a client reads a small object at once (at most 1 MB, file replicas).
 */
import { fs } from '../../builtin.js';
import fsp from 'node:fs/promises';
import { addAbortSignal, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameReader, Lz4Error } from '../lz4/index.js';
import type { ReadBody, ReplicaClient, SnapshotInfo, WALSegmentInfo } from '../replica-client.js';
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
    // Nothing else covers a snapshot's bytes: its LZ4 content checksum is verified.
    await decodeInto(name, body, ctx, true, (block) => {
      if (size < head.length) head.set(block.subarray(0, head.length - size), size);
      writeAll(fh.fd, block, size);
      size += block.length;
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
  // Every decoded byte of a segment is covered by the WAL header's and the frames'
  // chained checksums (checked by the assembly): LZ4's content checksum is redundant.
  await decodeInto(name, body, ctx, false, (block) => {
    if (len + block.length > limit) throw a.overlap(j);
    writeAll(fh.fd, block, seg.offset + len);
    len += block.length;
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

/**
 * open starts a download, naming the piece in its error. A client that reads an object
 * whole reports a failure after finding it (`midRead`) as a body that broke off: started over.
 */
async function open(name: string, fn: () => Promise<ReadBody>): Promise<ReadBody> {
  try {
    return await fn();
  } catch (err) {
    const e = describe(name, err);
    if (err instanceof ReplicaError && err.midRead && !(e instanceof CorruptError)) throw new BodyError(e.message, { cause: err });
    throw e;
  }
}

/**
 * decodeInto streams a stored body through the LZ4 decoder into `sink`, block by block
 * (checking the frames' content checksums or not); a body handed over whole is decoded at once.
 * Each decoded block is a borrowed view of the decoder's scratch, valid only until the
 * next block: `sink` uses it synchronously (a positional write to a local file), so no
 * block is copied and no stream machinery runs per block.
 */
async function decodeInto(name: string, body: ReadBody, ctx: FetchContext, verifyContentChecksum: boolean, sink: (block: Uint8Array) => void): Promise<void> {
  const decoder = new FrameReader({ verifyContentChecksum, borrow: true });
  if (!(body instanceof Readable)) return decodeWhole(name, body, ctx, decoder, sink);
  if (ctx.signal) addAbortSignal(ctx.signal, body);
  // Only a failure while reading the body is a download that broke off (started over).
  let reading = true;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      reading = false;
      ctx.counters.onStored(chunk.length);
      decoder.feed(chunk);
      for (let block = decoder.next(); block !== null; block = decoder.next()) sink(block);
      reading = true;
    }
    reading = false;
    decoder.end();
  } catch (err) {
    const e = describe(name, err);
    if (!reading || e instanceof CorruptError || e.name === 'AbortError') throw e;
    throw new BodyError(e.message, { cause: err });
  } finally {
    body.destroy();
  }
}

/** decodeWhole decodes a body handed over whole (nothing to break off: every error is the body's or the sink's). */
function decodeWhole(name: string, body: Uint8Array, ctx: FetchContext, decoder: FrameReader, sink: (block: Uint8Array) => void): void {
  try {
    ctx.counters.onStored(body.length);
    decoder.feed(body);
    for (let block = decoder.next(); block !== null; block = decoder.next()) sink(block);
    decoder.end();
  } catch (err) {
    throw describe(name, err);
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

/** writeAll writes all of `block` at `pos` (synchronously: the block is borrowed). */
function writeAll(fd: number, block: Uint8Array, pos: number): void {
  let done = 0;
  while (done < block.length) done += fs.writeSync(fd, block, done, block.length - done, pos + done);
}
