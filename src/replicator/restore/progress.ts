/**
 * progress: what a restore reports while it runs and when it ends — counters fed by the
 * downloads and the applier, a one-line progress display for terminals, and the summary.
 */
import type { RestorePlan } from './plan.js';
import type { FetchCounters } from './fetch.js';

/** RestoreProgress is a snapshot of the counters (`stored` bytes are compressed, as downloaded). */
export interface RestoreProgress {
  storedBytes: number;
  storedTotal: number;
  segmentsDone: number;
  segmentsTotal: number;
  indexesApplied: number;
  indexesTotal: number;
  elapsedMs: number;
}

/** RestoreStats is the end-of-restore summary (raw sizes, after decompression). */
export interface RestoreStats {
  snapshotBytes: number;
  walBytes: number;
  storedBytes: number;
  segments: number;
  indexes: number;
  pagesWritten: number;
  downloadMs: number;
  applyMs: number;
  checkMs: number;
  totalMs: number;
}

/** ProgressTracker counts downloads and applied indexes and passes each change to `onChange`. */
export class ProgressTracker implements FetchCounters {
  readonly #start = Date.now();
  readonly #p: RestoreProgress;
  readonly #onChange?: (p: RestoreProgress) => void;

  constructor(plan: RestorePlan, onChange?: (p: RestoreProgress) => void) {
    const segments = plan.indexes.flatMap((i) => i.segments);
    this.#p = {
      storedBytes: 0,
      storedTotal: plan.snapshot.size + segments.reduce((n, s) => n + s.size, 0),
      segmentsDone: 0,
      segmentsTotal: segments.length,
      indexesApplied: 0,
      indexesTotal: plan.indexes.length,
      elapsedMs: 0,
    };
    this.#onChange = onChange;
  }

  onStored(n: number): void {
    this.#p.storedBytes += n;
    this.#emit();
  }

  onSegment(): void {
    this.#p.segmentsDone++;
    this.#emit();
  }

  /** onApplied counts one WAL index folded into the database. */
  onApplied(): void {
    this.#p.indexesApplied++;
    this.#emit();
  }

  /** current returns a copy of the counters. */
  current(): RestoreProgress {
    return { ...this.#p, elapsedMs: Date.now() - this.#start };
  }

  #emit(): void {
    if (this.#onChange) this.#onChange(this.current());
  }
}

/** formatBytes renders a byte count in decimal units (`86.0 MB`). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** formatMs renders a duration in seconds with millisecond precision (`1.234s`). */
export function formatMs(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

/** progressLine renders the terminal progress line: bytes, segments, indexes, rate. */
export function progressLine(p: RestoreProgress): string {
  const rate = p.elapsedMs > 0 ? (p.storedBytes * 1000) / p.elapsedMs : 0;
  return (
    `restoring: ${formatBytes(p.storedBytes)} / ${formatBytes(p.storedTotal)}` +
    `, segments ${p.segmentsDone}/${p.segmentsTotal}` +
    `, indexes applied ${p.indexesApplied}/${p.indexesTotal}` +
    `, ${formatBytes(rate)}/s`
  );
}

/** summaryLine renders the end-of-restore summary. */
export function summaryLine(s: RestoreStats): string {
  return (
    `snapshot ${formatBytes(s.snapshotBytes)}, wal ${formatBytes(s.walBytes)} in ${s.segments} segments / ${s.indexes} indexes` +
    ` (${formatBytes(s.storedBytes)} downloaded), ${s.pagesWritten} pages written;` +
    ` download ${formatMs(s.downloadMs)}, apply ${formatMs(s.applyMs)}` +
    (s.checkMs > 0 ? `, integrity check ${formatMs(s.checkMs)}` : '') +
    `, total ${formatMs(s.totalMs)}`
  );
}

/** TTYProgress redraws one progress line on a terminal, at most every `intervalMs`. */
export class TTYProgress {
  #last = 0;
  #shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly intervalMs = 100,
  ) {}

  /** update redraws the line if the interval has passed. */
  update(p: RestoreProgress): void {
    const now = Date.now();
    if (now - this.#last < this.intervalMs) return;
    this.#last = now;
    this.#shown = true;
    this.stream.write(`\r\x1b[K${progressLine(p)}`);
  }

  /** clear erases the line before other output. */
  clear(): void {
    if (this.#shown) this.stream.write('\r\x1b[K');
    this.#shown = false;
  }
}
