/**
 * replica: one replication target of one database (the reference's Replica). It keeps its
 * position in memory, uploads from the shadow WAL as LZ4 segments, takes snapshots, and
 * enforces retention. Storage is only reached through a ReplicaClient.
 */
import { fs } from '../builtin.js';
import { pipeline } from 'node:stream/promises';
import type { ReplicaConfig } from '../config/types.js';
import { errorMessage, wrapError } from '../errors.js';
import { Claims } from './claim.js';
import type { Logger } from '../log.js';
import type { Db } from './db.js';
import { walSegmentKey } from './layout.js';
import { processTrimmer } from './memory.js';
import { Lz4Error, createFrameDecoder, createFrameEncoder, encodeFrameInSteps } from './lz4/index.js';
import { type Pos, comparePos, formatPos, hex8 } from './pos.js';
import { type ReplicaClient, type SnapshotInfo, bodyStream } from './replica-client.js';
import { enforceRetention } from './retention.js';
import { ReplicaStats } from './stats.js';
import { Throttle } from './throttle.js';

/** SMALL_SEGMENT is the largest segment read into memory whole (bigger ones stream). */
export const SMALL_SEGMENT = 4 * 1024 * 1024;

/**
 * ENCODE_BLOCK_BYTES is how much input each LZ4 block we write holds (the frame still
 * declares the spec's 4 MB maximum). Compressing is synchronous: a 4 MB block held the
 * event loop for ~18 ms here, long enough to miss the moment a busy app's WAL reaches
 * its checkpoint size (checkpointer.ts: stepAside); 256 KB takes about 1 ms. LZ4
 * matches reach back 64 KB at most, so smaller blocks compress about as well.
 */
export const ENCODE_BLOCK_BYTES = 256 * 1024;

/** FLUSH_ROUNDS bounds the syncs of one flush: a generation ended during one is followed into the next. */
export const FLUSH_ROUNDS = 3;

/** Replica uploads one database's shadow WAL to one ReplicaClient. */
export class Replica {
  readonly name: string;
  readonly config: ReplicaConfig;
  readonly client: ReplicaClient;
  readonly db: Db;
  readonly log: Logger;
  /** pos is how far this replica holds the current generation (undefined: not known yet). */
  pos: Pos | undefined;
  /** restorable: the replica holds a snapshot of pos's generation (its WAL alone restores nothing). */
  private restorable = false;
  /** stats count failed syncs and when this replica was last caught up (metrics.ts). */
  readonly stats = new ReplicaStats();
  private readonly throttle: Throttle;
  /** claims is this run's claim on the generation it writes here (claim.ts). */
  private readonly claims: Claims;
  private timers: NodeJS.Timeout[] = [];
  private lastSnapshotKey = '';
  /** queue: the tail of the uploads run one at a time (serialize). */
  private queue: Promise<void> = Promise.resolve();
  /**
   * unsettled: segments whose upload failed with an unknown outcome (a timeout, a reset):
   * the request may still land later. Their key is only ever written again with the same
   * bytes, [offset, end) — never longer — so a late delivery cannot replace newer content
   * (the key-once rule). Keyed by `generation/index/offset`.
   */
  private readonly unsettled = new Map<string, number>();
  /** lastError is the last sync error logged (repeats of it are logged sparsely). */
  private lastError: string | undefined;
  /**
   * beforeDeferredSync is called just before an upload that waited (for the sync-interval,
   * an upload in flight, or a retry's backoff) starts. The Replicator sets it to look at the database then, so
   * that the upload carries every commit up to its due time, not only those its last
   * regular look saw (those come a quarter of the sync-interval apart, wake.ts).
   */
  beforeDeferredSync: () => void = () => {};

  constructor(db: Db, config: ReplicaConfig, client: ReplicaClient, logger: Logger) {
    this.db = db;
    this.config = config;
    this.name = config.name;
    this.client = client;
    this.log = logger.child({ replica: config.name });
    this.claims = new Claims(client);
    this.throttle = new Throttle(() => this.sync(), {
      interval: config.syncInterval,
      beforeDeferredRun: () => this.beforeDeferredSync(),
      onError: (err, attempt) => {
        this.pos = undefined;
        this.stats.syncErrors++;
        const error = errorMessage(err);
        this.stats.lastError = { message: error, at: Date.now() };
        this.stats.failing = true;
        // A lasting fault (a full disk, an outage) is told once, then at attempts 2, 4, 8, …
        // or when its error changes, not on every retry.
        if (error === this.lastError && (attempt & (attempt - 1)) !== 0) return;
        this.lastError = error;
        this.log.error('sync failed', { attempt, error });
      },
      onRecover: (failures) => {
        this.lastError = undefined;
        this.stats.failing = false;
        this.log.info('sync recovered', { failed_attempts: failures });
      },
    });
  }

  /** restorablePos is pos once the replica holds a snapshot of its generation (what a restore would reach), else undefined. */
  get restorablePos(): Pos | undefined {
    return this.restorable ? this.pos : undefined;
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
    // A sync can end the generation (another writer's claim, a replica ahead of the shadow
    // WAL) and return with nothing of the new one uploaded: follow it, a few times at most.
    for (let round = 1; ; round++) {
      await this.sync();
      const at = this.db.pos();
      const held = this.restorablePos;
      if (!at || (held && held.generation === at.generation && comparePos(held, at) === 0)) break;
      if (round === FLUSH_ROUNDS) {
        throw new Error(`final sync: replica at ${held ? formatPos(held) : 'no restorable position'}, database at ${formatPos(at)}`);
      }
    }
    if (this.pos) await this.claims.release(this.pos);
  }

  /** sync uploads until this replica holds the database's current position. */
  sync(): Promise<void> {
    return this.serialize(() => this.syncNow());
  }

  /**
   * snapshot uploads the database file as a snapshot at the current shadow index — after
   * the WAL it depends on (see snapshotNow).
   */
  snapshot(): Promise<SnapshotInfo> {
    return this.serialize(async () => {
      await this.syncNow();
      return this.snapshotNow();
    });
  }

  /**
   * serialize runs uploads one at a time (the sync timer, the snapshot timer, retention and
   * the final flush): two concurrent uploads of one position could write one key twice
   * with different lengths.
   */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async syncNow(until?: Pos): Promise<void> {
    const target = this.db.pos();
    if (!target) return;
    if (!this.pos || this.pos.generation !== target.generation) {
      const pos = await this.initPos(target.generation);
      if (!pos) return;
      this.pos = pos;
    }
    for (;;) {
      const now = this.db.pos();
      if (!now || now.generation !== this.pos.generation) return;
      if (until && comparePos(this.pos, until) >= 0) return;
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

  /**
   * snapshotNow uploads the database file as a snapshot at the current shadow index. The
   * file alone is not a consistent database: while it is read, the app's checkpoints may
   * copy into it any WAL frame up to our read lock's mark (never past the shadow position
   * `at` taken here), so the snapshot restores only together with its index's WAL up to
   * `at`. That WAL is uploaded first: a replica never holds a snapshot without it, and a
   * kill between the two leaves a generation without a snapshot, which restore skips.
   * So the replica must be in `at`'s generation (claimed, positioned): a snapshot of a
   * generation it has not reached yet is refused, never written without its WAL.
   */
  private async snapshotNow(): Promise<SnapshotInfo> {
    const db = this.db;
    db.beginSnapshot();
    try {
      const at = db.pos();
      if (!at) throw new Error('snapshot: database is not open');
      if (this.pos?.generation !== at.generation) throw new Error(`snapshot: replica not yet in generation ${at.generation}`);
      await this.syncNow(at);
      if (db.generation !== at.generation) throw new Error(`snapshot: generation ${at.generation} ended before its snapshot`);
      const held = this.pos;
      if (!held || held.generation !== at.generation || comparePos(held, at) < 0) {
        throw new Error(`snapshot: wal uploaded to ${held ? formatPos(held) : 'nothing'}, not ${formatPos(at)}`);
      }
      const started = Date.now();
      const body = db.snapshotStream().pipe(createFrameEncoder({ blockBytes: ENCODE_BLOCK_BYTES }));
      const info = await this.client.writeSnapshot(at.generation, at.index, body).catch((err) => {
        throw wrapError(`snapshot ${at.generation}/${hex8(at.index)}`, err);
      });
      this.lastSnapshotKey = `${at.generation}/${at.index}/${at.offset}`;
      processTrimmer().note(info.size);
      this.log.info('snapshot written', { generation: at.generation, index: hex8(at.index), size: info.size, ms: Date.now() - started });
      return info;
    } finally {
      db.endSnapshot();
    }
  }

  /** retain runs one retention check now (only in a generation this run has claimed). */
  retain(): Promise<void> {
    return this.serialize(() => this.retainNow());
  }

  private async retainNow(): Promise<void> {
    const gen = this.db.pos()?.generation;
    if (!gen || this.config.retention <= 0) return;
    if (this.pos?.generation !== gen) await this.syncNow();
    if (!this.claims.holds(gen)) return;
    await enforceRetention({
      client: this.client,
      generation: gen,
      retention: this.config.retention,
      snapshot: () => this.snapshotNow(),
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
   * initPos computes the position from the replica once per generation and claims the
   * generation before the first write into it (claim.ts). A generation this run may not
   * write into is ended here: undefined, and the Db starts a new one (logged). A generation
   * without a snapshot gets its WAL up to now and then one (bootstrap).
   */
  private async initPos(generation: string): Promise<Pos | undefined> {
    this.restorable = false;
    for (const k of this.unsettled.keys()) if (!k.startsWith(`${generation}/`)) this.unsettled.delete(k);
    const origin = this.db.origin;
    const end = await this.storedEnd(generation);
    if (end === UNREADABLE) return undefined;
    const refused = await this.claims.admit(generation, end, origin);
    if (refused) {
      this.log.warn('another writer may be writing this generation: starting a new one', { generation, reason: refused });
      this.db.restartGeneration(`replica ${this.name}: ${refused}`);
      return undefined;
    }
    if (!end) return this.bootstrap(generation);
    this.restorable = true;
    return end;
  }

  /**
   * bootstrap gives a generation without a snapshot its WAL from the current index up to
   * now (continuing segments a killed run left there), then its snapshot (snapshotNow).
   * Undefined when a segment left there does not decompress (the generation was ended),
   * or when the database moved on to a newer generation while this one was listed and
   * claimed: its index and its file belong to that newer one, which the next sync
   * claims and bootstraps in turn.
   */
  private async bootstrap(generation: string): Promise<Pos | undefined> {
    const now = this.db.pos();
    if (now?.generation !== generation) return undefined;
    this.log.info('taking snapshot', { reason: 'no snapshot in generation', generation });
    const from = await this.segmentsEnd({ generation, index: now.index, offset: 0 });
    if (from === UNREADABLE || this.db.generation !== generation) return undefined;
    this.pos = from;
    await this.snapshotNow();
    this.restorable = true;
    return this.pos;
  }

  /**
   * storedEnd is where the replica's copy of a generation ends: the end of its highest
   * segment (decompressed), else its last snapshot; undefined without a snapshot;
   * UNREADABLE when its newest segment does not decompress (the generation was ended).
   */
  private async storedEnd(generation: string): Promise<Pos | undefined | typeof UNREADABLE> {
    let snap: SnapshotInfo | undefined;
    for await (const s of this.client.snapshots(generation)) if (!snap || s.index > snap.index) snap = s;
    if (!snap) return undefined;
    return this.segmentsEnd({ generation, index: snap.index, offset: 0 });
  }

  /**
   * segmentsEnd is the end of the generation's highest segment (decompressed) when it is at
   * or past `from`, else `from`; UNREADABLE when that segment does not decompress.
   */
  private async segmentsEnd(from: Pos): Promise<Pos | typeof UNREADABLE> {
    let pos = from;
    let last: Pos | undefined;
    for await (const w of this.client.walSegments(from.generation)) if (!last || comparePos(w, last) > 0) last = w;
    if (last && comparePos(last, pos) >= 0) {
      const len = await this.readableLength(last);
      if (len === undefined) return UNREADABLE;
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

  private async segmentLength(pos: Pos): Promise<number> {
    let n = 0;
    const body = await this.client.readWALSegment(pos);
    await pipeline(bodyStream(body), createFrameDecoder(), async (src: AsyncIterable<Buffer>) => {
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
      processTrimmer().note(len);
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
    await this.serialize(async () => {
      const p = this.db.pos();
      if (!p || `${p.generation}/${p.index}/${p.offset}` === this.lastSnapshotKey) return;
      await this.syncNow();
      // A generation that ended meanwhile gets its snapshot from the next sync's bootstrap.
      if (!this.claims.holds(p.generation) || this.pos?.generation !== p.generation || this.db.generation !== p.generation) return;
      await this.snapshotNow();
    });
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const t = setInterval(() => {
      fn().catch((err) => this.log.error('scheduled task failed', { error: errorMessage(err) }));
    }, ms);
    t.unref();
    this.timers.push(t);
  }
}

/** UNREADABLE marks a generation whose newest segment on the replica does not decompress: it was ended (readableLength). */
const UNREADABLE = Symbol('unreadable');

/** posKey names a segment position in `unsettled`. */
function posKey(pos: Pos): string {
  return `${pos.generation}/${pos.index}/${pos.offset}`;
}
