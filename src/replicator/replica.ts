/**
 * replica: one replication target of one database (the reference's Replica). It keeps its
 * position in memory, uploads from the shadow WAL as LZ4 segments, takes snapshots, and
 * enforces retention. Storage is only reached through a ReplicaClient.
 */
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { ReplicaConfig } from '../config/types.js';
import { errorMessage, wrapError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Db } from './db.js';
import { walSegmentKey } from './layout.js';
import { Lz4Error, createFrameDecoder, createFrameEncoder, encodeFrameInSteps } from './lz4/index.js';
import { type Pos, comparePos, formatPos, hex8 } from './pos.js';
import type { ReplicaClient, SnapshotInfo } from './replica-client.js';
import { enforceRetention } from './retention.js';
import { ReplicaStats } from './stats.js';
import { Throttle } from './throttle.js';

/** SMALL_SEGMENT is the largest segment read into memory whole (bigger ones stream). */
export const SMALL_SEGMENT = 4 * 1024 * 1024;

/**
 * ENCODE_BLOCK_BYTES is how much input each LZ4 block we write holds (the frame still
 * declares the spec's 4 MB maximum). Compressing is synchronous: a 4 MB block held the
 * event loop for ~18 ms here, long enough to miss the moment a busy app's WAL reaches
 * its checkpoint size (db.ts: stepAside); 256 KB takes about 1 ms. LZ4 matches reach
 * back 64 KB at most, so smaller blocks compress about as well.
 */
export const ENCODE_BLOCK_BYTES = 256 * 1024;

/** Replica uploads one database's shadow WAL to one ReplicaClient. */
export class Replica {
  readonly name: string;
  readonly config: ReplicaConfig;
  readonly client: ReplicaClient;
  readonly db: Db;
  readonly log: Logger;
  /** pos is how far this replica holds the current generation (undefined: not known yet). */
  pos: Pos | undefined;
  /** stats count failed syncs and when this replica was last caught up (metrics.ts). */
  readonly stats = new ReplicaStats();
  private readonly throttle: Throttle;
  private timers: NodeJS.Timeout[] = [];
  private lastSnapshotKey = '';
  /**
   * unsettled: segments whose upload failed with an unknown outcome (a timeout, a reset):
   * the request may still land later. Their key is only ever written again with the same
   * bytes, [offset, end) — never longer — so a late delivery cannot replace newer content
   * (the key-once rule). Keyed by `generation/index/offset`.
   */
  private readonly unsettled = new Map<string, number>();

  constructor(db: Db, config: ReplicaConfig, client: ReplicaClient, logger: Logger) {
    this.db = db;
    this.config = config;
    this.name = config.name;
    this.client = client;
    this.log = logger.child({ replica: config.name });
    this.throttle = new Throttle(() => this.sync(), {
      interval: config.syncInterval,
      onError: (err, attempt) => {
        this.pos = undefined;
        this.stats.syncErrors++;
        this.log.error('sync failed', { attempt, error: errorMessage(err) });
      },
    });
  }

  /** notify tells the replica the database moved; it uploads per its sync-interval. */
  notify(): void {
    this.throttle.trigger();
  }

  /** start arms the snapshot-interval and retention timers. */
  start(): void {
    const { snapshotInterval, retention, retentionCheckInterval } = this.config;
    if (snapshotInterval > 0) this.every(snapshotInterval, () => this.intervalSnapshot());
    if (retention > 0) this.every(Math.min(retentionCheckInterval, retention), () => this.retain());
  }

  /**
   * flush is the final sync: stop timers, wait for the upload in flight, then upload
   * everything the shadow WAL holds. Throws if the replica could not be brought up to date.
   */
  async flush(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.throttle.stop();
    await this.sync();
  }

  /** sync uploads until this replica holds the database's current position. */
  async sync(): Promise<void> {
    const target = this.db.pos();
    if (!target) return;
    if (!this.pos || this.pos.generation !== target.generation) this.pos = await this.initPos(target.generation);
    if (!this.pos) return;
    for (;;) {
      const now = this.db.pos();
      if (!now || now.generation !== this.pos.generation) return;
      const end = this.db.shadowEnd(this.pos.index);
      const from = this.db.continuedFrom;
      if (end === undefined && from && this.pos.index === from.index && this.pos.offset === from.offset) {
        // The end of the restored generation: this run continues it in the next index.
        this.pos = { generation: this.pos.generation, index: from.index + 1, offset: 0 };
        continue;
      }
      if (end === undefined || this.pos.offset > end) {
        // The replica holds what the local shadow WAL does not (lost in a power cut, or
        // written by someone else): appending here could interleave two histories.
        this.db.restartGeneration(`replica ${this.name} is at ${formatPos(this.pos)}, beyond the local shadow wal`);
        return;
      }
      if (this.pos.offset < end) {
        const upTo = Math.min(end, this.unsettled.get(posKey(this.pos)) ?? end);
        await this.uploadSegment(this.pos, upTo);
        this.pos = { ...this.pos, offset: upTo };
      } else if (this.pos.index < now.index) {
        this.pos = { generation: this.pos.generation, index: this.pos.index + 1, offset: 0 };
      } else {
        this.stats.caughtUpAt = Date.now();
        return;
      }
    }
  }

  /** snapshot uploads the database file as a snapshot at the current shadow index. */
  async snapshot(): Promise<SnapshotInfo> {
    const db = this.db;
    db.beginSnapshot();
    try {
      const pos = db.pos();
      if (!pos) throw new Error('snapshot: database is not open');
      const started = Date.now();
      const body = db.snapshotStream().pipe(createFrameEncoder({ blockBytes: ENCODE_BLOCK_BYTES }));
      const info = await this.client.writeSnapshot(pos.generation, pos.index, body).catch((err) => {
        throw wrapError(`snapshot ${pos.generation}/${hex8(pos.index)}`, err);
      });
      this.lastSnapshotKey = `${pos.generation}/${pos.index}/${pos.offset}`;
      this.log.info('snapshot written', { generation: pos.generation, index: hex8(pos.index), size: info.size, ms: Date.now() - started });
      return info;
    } finally {
      db.endSnapshot();
    }
  }

  /** retain runs one retention check now. */
  async retain(): Promise<void> {
    const gen = this.db.pos()?.generation;
    if (!gen || this.config.retention <= 0) return;
    await enforceRetention({
      client: this.client,
      generation: gen,
      retention: this.config.retention,
      snapshot: () => this.snapshot(),
      log: this.log,
    });
  }

  /** stop cancels timers and scheduled uploads without a final sync. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.throttle.stop();
  }

  /**
   * initPos computes the position from the replica once per generation: snapshot first if
   * the generation has none, then the end of the highest segment (its decompressed length).
   */
  private async initPos(generation: string): Promise<Pos | undefined> {
    for (const k of this.unsettled.keys()) if (!k.startsWith(`${generation}/`)) this.unsettled.delete(k);
    let snap: SnapshotInfo | undefined;
    for await (const s of this.client.snapshots(generation)) if (!snap || s.index > snap.index) snap = s;
    if (!snap) return (await this.resnapshot('no snapshot in generation'))!;
    let pos: Pos = { generation, index: snap.index, offset: 0 };
    let last: Pos | undefined;
    for await (const w of this.client.walSegments(generation)) if (!last || comparePos(w, last) > 0) last = w;
    if (last && comparePos(last, pos) >= 0) {
      const len = await this.readableLength(last);
      if (len === undefined) return undefined;
      pos = { ...last, offset: last.offset + len };
    }
    this.log.debug('position', { pos: formatPos(pos) });
    return pos;
  }

  /**
   * readableLength is the decompressed length of the replica's newest segment, or, when
   * it does not decompress (empty or cut off: a torn PUT on a store without atomic
   * writes, a torn file write), undefined after one warning naming it and the start of a
   * new generation — appending after an unreadable segment would leave every later
   * commit unrestorable. A failure to read it at all (network) is thrown and retried.
   */
  private async readableLength(last: Pos): Promise<number | undefined> {
    try {
      return await this.segmentLength(last);
    } catch (err) {
      if (!(err instanceof Lz4Error)) throw err;
      const key = walSegmentKey(last.generation, last.index, last.offset);
      this.log.warn('unreadable wal segment on the replica: starting a new generation', { segment: key, error: err.message });
      this.db.restartGeneration(`replica ${this.name}: unreadable wal segment ${key}`);
      return undefined;
    }
  }

  /** resnapshot takes a snapshot at the current index and restarts uploading from its offset 0. */
  private async resnapshot(reason: string): Promise<Pos> {
    this.log.info('taking snapshot', { reason });
    const info = await this.snapshot();
    return { generation: info.generation, index: info.index, offset: 0 };
  }

  private async segmentLength(pos: Pos): Promise<number> {
    let n = 0;
    const body = await this.client.readWALSegment(pos);
    await pipeline(body, createFrameDecoder(), async (src: AsyncIterable<Buffer>) => {
      for await (const chunk of src) n += chunk.length;
    });
    return n;
  }

  /** uploadSegment sends shadow WAL bytes [pos.offset, end) as one LZ4 segment. */
  private async uploadSegment(pos: Pos, end: number): Promise<void> {
    const len = end - pos.offset;
    this.db.makeShadowDurable(pos.index);
    const body =
      len <= SMALL_SEGMENT
        ? await encodeFrameInSteps(len, (s, e) => this.readShadowOf(pos, pos.offset + s, pos.offset + e), {
            blockBytes: ENCODE_BLOCK_BYTES,
            pause: () => new Promise((resolve) => setImmediate(resolve)),
          })
        : fs
            .createReadStream(this.db.shadowPath(pos.index), { start: pos.offset, end: end - 1 })
            .pipe(createFrameEncoder({ blockBytes: ENCODE_BLOCK_BYTES }));
    const key = posKey(pos);
    try {
      await this.client.writeWALSegment(pos, body);
      this.unsettled.delete(key);
    } catch (err) {
      // The request may still land later (a timeout, a reset): this key keeps these bytes.
      if (!this.unsettled.has(key)) this.unsettled.set(key, end);
      throw wrapError(`write wal ${hex8(pos.index)}_${hex8(pos.offset)}`, err);
    }
    this.log.debug('wal segment written', { pos: formatPos(pos), bytes: len });
  }

  /**
   * readShadowOf reads shadow bytes [start, end) of `pos`'s index, refusing once the
   * database has moved to another generation (an upload that spans event-loop turns must
   * not mix two generations' files).
   */
  private readShadowOf(pos: Pos, start: number, end: number): Buffer {
    if (this.db.generation !== pos.generation) throw new Error(`generation ${pos.generation} ended during the upload`);
    return this.db.readShadow(pos.index, start, end);
  }

  private async intervalSnapshot(): Promise<void> {
    const p = this.db.pos();
    if (!p || `${p.generation}/${p.index}/${p.offset}` === this.lastSnapshotKey) return;
    await this.snapshot();
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const t = setInterval(() => {
      fn().catch((err) => this.log.error('scheduled task failed', { error: errorMessage(err) }));
    }, ms);
    t.unref();
    this.timers.push(t);
  }
}

/** posKey names a segment position in `unsettled`. */
function posKey(pos: Pos): string {
  return `${pos.generation}/${pos.index}/${pos.offset}`;
}
