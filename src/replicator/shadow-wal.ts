/**
 * shadow-wal: one database's shadow WAL as a whole — the current generation, its shadow
 * files, and how they follow the real WAL: verification, new generations (with a logged
 * reason), the hand-over to index+1 when the WAL restarts, and continuing a restored
 * generation. The Db (db.ts) owns the SQLite side and drives this, as does its
 * Checkpointer (checkpointer.ts) around each checkpoint.
 */
import { fs } from '../builtin.js';
import type { Logger } from '../log.js';
import { shadowWALPath } from './layout.js';
import { readGeneration, removeOtherGenerations, writeGeneration } from './meta.js';
import { MAX_INDEX, type Pos, hex8, newGeneration } from './pos.js';
import { type RealWAL, sameBytes } from './real-wal.js';
import { RecentBytes } from './recent.js';
import { takeRestoredMarker } from './restored.js';
import { ShadowFile, makeFileDurable, readFileRange, shadowIndexes } from './shadow.js';
import { WAL_HEADER_SIZE, type WALHeader, frameSize, parseWALHeader } from './wal.js';

/** WithWriteLock runs a function while holding the database's write lock. */
export type WithWriteLock = (fn: () => void) => void;

/** ShadowWAL keeps one database's shadow WAL in step with its real WAL. */
export class ShadowWAL {
  readonly meta: string;
  generation: string | undefined;
  /** continuedFrom is where a restored generation ended (its index and size), when this run continues it. */
  continuedFrom: { index: number; offset: number } | undefined;
  /** startedHere: this run started the current generation (claim.ts: nobody else can be writing it). */
  startedHere = false;
  /** previousGeneration is the generation this run left when it started the current one (claim.ts follow markers). */
  previousGeneration: string | undefined;
  private readonly wal: RealWAL;
  private readonly log: Logger;
  private readonly withWriteLock: WithWriteLock;
  private readonly recent = new RecentBytes();
  private shadow: ShadowFile | undefined;
  /** undurable: indexes of this generation's closed shadow files not yet fsynced whole. */
  private readonly undurable = new Set<number>();
  /** removed: every shadow file of `generation` below `below` is deleted (removeBelow need not list the folder again). */
  private removed = { generation: '', below: 0 };

  constructor(meta: string, wal: RealWAL, withWriteLock: WithWriteLock, log: Logger) {
    this.meta = meta;
    this.wal = wal;
    this.withWriteLock = withWriteLock;
    this.log = log;
  }

  /** appendedBytes is how many frame bytes this run has written to the shadow WAL. */
  get appendedBytes(): number {
    return this.recent.added;
  }

  /** pos is the current position (generation, index, committed size). */
  pos(): Pos | undefined {
    if (!this.generation || !this.shadow) return undefined;
    return { generation: this.generation, index: this.shadow.index, offset: this.shadow.size };
  }

  /** current is the open shadow file (undefined before the first generation). */
  get current(): ShadowFile | undefined {
    return this.shadow;
  }

  /**
   * load resumes the recorded generation's last shadow WAL, or continues a restored
   * generation (`dbFd`: the database file, to check the restore marker against).
   */
  load(dbFd: number): void {
    const gen = readGeneration(this.meta);
    if (!gen) return this.continueRestored(dbFd);
    const last = shadowIndexes(this.meta, gen).pop();
    const shadow = last === undefined ? undefined : ShadowFile.open(this.meta, gen, last);
    if (!shadow) return;
    this.generation = gen;
    this.shadow = this.track(shadow);
    // At start, a real WAL header that differs from the last shadow header means frames
    // were written and checkpointed away while we were not watching: a new generation.
    const hdr = this.wal.header();
    if (!hdr || !sameBytes(hdr, shadow.headerBytes)) this.startGeneration('wal header changed while stopped');
  }

  /** verifyAndCopy checks the real WAL against the shadow WAL, then copies new frames. */
  verifyAndCopy(): void {
    const shadow = this.shadow;
    if (!this.generation || !shadow) return this.startGeneration('no generation exists');
    if (shadow.index >= MAX_INDEX) return this.startGeneration('max index exceeded');
    if (this.wal.size() < shadow.size) return this.startGeneration('wal truncated by another process');
    const hdr = this.wal.header();
    if (!hdr) return this.log.warn('wal header unreadable, will retry');
    if (!sameBytes(hdr, shadow.headerBytes)) {
      if (shadow.frames === 0) return this.startGeneration('wal header only, mismatched');
      return this.handOver(hdr, -1);
    }
    if (!this.lastFrameIntact()) return this.startGeneration('wal overwritten by another process');
    this.wal.copy(shadow);
  }

  /** copy appends newly committed frames of the current WAL to the shadow. */
  copy(): void {
    if (this.shadow) this.wal.copy(this.shadow);
  }

  /** restarted returns the real WAL's header when it differs from the shadow's (the WAL restarted). */
  restarted(): Uint8Array | undefined {
    const hdr = this.wal.header();
    return hdr && this.shadow && !sameBytes(hdr, this.shadow.headerBytes) ? hdr : undefined;
  }

  /**
   * handOver moves to index+1 after the WAL restarted (its header changed while the shadow
   * holds frames). It first tries without any lock (see copyOldTail), and falls back to
   * the reference's way: the same steps under the write lock. `logFrames` is the old WAL's
   * frame count when our own checkpoint reported it (-1 when unknown); `sealed` says our
   * write lock kept every other connection from appending from our last copy until the
   * restart, so the old WAL ended at `logFrames`: then the shadow holding all of them,
   * and the new header being the very next restart, are the whole proof.
   */
  handOver(hdr: Uint8Array, logFrames: number, sealed = false): void {
    if (sealed && this.sealedTail(hdr, logFrames)) return this.startNextIndex(hdr);
    if (this.copyOldTail(hdr, logFrames)) return this.startNextIndex(hdr);
    this.withWriteLock(() => {
      const now = this.wal.header();
      if (!now) return this.startGeneration('wal header unreadable after a restart');
      if (!this.copyOldTail(now, logFrames)) return this.startGeneration(this.restartLossReason(now));
      this.startNextIndex(now);
    });
  }

  /** startGeneration begins a new generation from the whole current WAL (reason logged). */
  startGeneration(reason: string): void {
    const hdr = this.wal.header();
    if (!hdr) return this.log.warn('wal header unreadable, will retry');
    const gen = newGeneration();
    this.log.info('new generation', { generation: gen, reason });
    this.shadow?.close();
    this.undurable.clear();
    this.recent.clear();
    this.shadow = this.track(ShadowFile.create(this.meta, gen, 0, hdr));
    this.wal.copy(this.shadow);
    writeGeneration(this.meta, gen);
    this.previousGeneration = this.generation;
    this.generation = gen;
    this.continuedFrom = undefined;
    this.startedHere = true;
    removeOtherGenerations(this.meta, gen);
  }

  /**
   * makeDurable fsyncs shadow WAL `index` of the current generation (and its directory
   * entries) if needed: call before uploading from it, so no replica ever holds a
   * position the local shadow WAL could lose in a power cut.
   */
  makeDurable(index: number): void {
    if (this.shadow && index === this.shadow.index) return this.shadow.makeDurable();
    if (!this.undurable.delete(index)) return;
    makeFileDurable(this.path(index));
  }

  /** end is the committed size of shadow WAL `index` of the current generation, if it exists. */
  end(index: number): number | undefined {
    if (!this.shadow || !this.generation || index > this.shadow.index) return undefined;
    if (index === this.shadow.index) return this.shadow.size;
    try {
      return fs.statSync(this.path(index)).size;
    } catch {
      return undefined;
    }
  }

  /** read returns bytes [start, end) of shadow WAL `index`, from memory when recent (then a view: use it before the next sync). */
  read(index: number, start: number, end: number): Buffer {
    return this.recent.get(index, start, end) ?? readFileRange(this.path(index), start, end - start);
  }

  /** path is the file of shadow WAL `index` of the current generation. */
  path(index: number): string {
    return shadowWALPath(this.meta, this.generation!, index);
  }

  /** removeBelow deletes the current generation's shadow WAL files with index < `index`. */
  removeBelow(index: number): void {
    const gen = this.generation;
    if (!gen || (this.removed.generation === gen && index <= this.removed.below)) return;
    for (const i of shadowIndexes(this.meta, gen)) {
      if (i >= index) break;
      this.undurable.delete(i);
      fs.rmSync(this.path(i), { force: true });
    }
    this.removed = { generation: gen, below: index };
  }

  /** close releases the current shadow file. */
  close(): void {
    this.shadow?.close();
  }

  /**
   * continueRestored picks up the generation a restore left this database at: the file is
   * still exactly what the restore installed (restored.ts checks), so the current WAL —
   * new since the restore — continues that generation in index+1, without a snapshot.
   */
  private continueRestored(dbFd: number): void {
    const m = takeRestoredMarker(this.meta, dbFd);
    const hdr = m && this.wal.header();
    if (!m || !hdr) return;
    this.generation = m.generation;
    this.shadow = this.track(ShadowFile.create(this.meta, m.generation, m.index + 1, hdr));
    this.wal.copy(this.shadow);
    writeGeneration(this.meta, m.generation);
    removeOtherGenerations(this.meta, m.generation);
    this.continuedFrom = { index: m.index, offset: m.offset };
    this.log.info('continuing the restored generation', { generation: m.generation, index: hex8(m.index + 1) });
  }

  /** lastFrameIntact compares the last shadow frame with the real WAL at the same offset. */
  private lastFrameIntact(): boolean {
    const shadow = this.shadow!;
    if (shadow.frames === 0) return true;
    const fsz = frameSize(shadow.header.pageSize);
    const off = shadow.size - fsz;
    return this.wal.sameAs(off, shadow.readAt(off, fsz));
  }

  /**
   * copyOldTail copies what is left of the old WAL and proves nothing was missed. A restart
   * rewrites the WAL from its start, so while the last synced frame is intact the new WAL
   * has not reached it and every old frame after it is still there: copy them (their salts
   * and checksum chain vouch for each one), then check the last frame again — still intact
   * means the copy raced no overwrite. The new header's first salt must be the old one + 1
   * (SQLite adds one at every restart, whichever connection restarts: exactly one restart
   * happened), and when our own checkpoint counted the old WAL's frames, all of them must
   * now be in the shadow.
   */
  private copyOldTail(hdr: Uint8Array, logFrames: number): boolean {
    const shadow = this.shadow!;
    if (!isNextIncarnation(shadow.header, hdr)) return false;
    if (!this.lastFrameIntact()) return false;
    this.wal.copy(shadow);
    if (!this.lastFrameIntact()) return false;
    return logFrames < 0 || shadow.size >= WAL_HEADER_SIZE + logFrames * frameSize(shadow.header.pageSize);
  }

  /** sealedTail: the shadow holds exactly the sealed old WAL's `logFrames` frames and `hdr` is the next restart. */
  private sealedTail(hdr: Uint8Array, logFrames: number): boolean {
    const shadow = this.shadow!;
    return logFrames >= 0 && shadow.frames === logFrames && isNextIncarnation(shadow.header, hdr);
  }

  private restartLossReason(hdr: Uint8Array): string {
    if (!isNextIncarnation(this.shadow!.header, hdr)) return 'wal restarted more than once between syncs';
    return 'wal overwritten by another process';
  }

  /** startNextIndex continues the generation in shadow index+1 from the new WAL header. */
  private startNextIndex(hdr: Uint8Array): void {
    const shadow = this.shadow!;
    if (shadow.index + 1 >= MAX_INDEX) return this.startGeneration('max index exceeded');
    if (!shadow.durable) this.undurable.add(shadow.index);
    shadow.close();
    this.shadow = this.track(ShadowFile.create(this.meta, this.generation!, shadow.index + 1, hdr));
    this.wal.copy(this.shadow);
    this.log.debug('wal restarted', { index: this.shadow.index });
  }

  /** track makes a shadow file report its appends to `recent`. */
  private track(shadow: ShadowFile): ShadowFile {
    shadow.recent = this.recent;
    return shadow;
  }
}

/** isNextIncarnation reports whether WAL header `hdr` is the restart right after `prev` (salt-1 + 1). */
export function isNextIncarnation(prev: WALHeader, hdr: Uint8Array): boolean {
  const next = parseWALHeader(hdr);
  return next !== undefined && next.salt1 === ((prev.salt1 + 1) >>> 0);
}
