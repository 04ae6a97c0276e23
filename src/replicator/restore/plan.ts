/**
 * plan: the pure half of restore. From generation summaries it chooses the generation
 * (latest update wins; on a tie a generation another tied one follows (claim.ts) drops
 * out, then the one that started later wins, then the higher position, never an older generation),
 * the snapshot, and the WAL segments to apply, checking that every index from the
 * snapshot's to the target exists and starts at 0.
 */
import type { SnapshotInfo, WALSegmentInfo } from '../replica-client.js';
import type { GenerationSummary } from '../generations.js';
import { lastPosition } from '../generations.js';
import { comparePos, hex8 } from '../pos.js';
import { walSegmentName } from '../layout.js';
import { CorruptError, NoBackupError } from './errors.js';

/** TargetOptions select what to restore; `index` and `timestamp` exclude each other. */
export interface TargetOptions {
  /** generation restores this generation instead of the latest. */
  generation?: string;
  /** index is the last WAL index to apply (inclusive). */
  index?: number;
  /** timestamp restores the state as of this time (files created at or before it). */
  timestamp?: Date;
}

/** IndexPlan is one WAL index to download and apply, its segments in offset order. */
export interface IndexPlan {
  index: number;
  segments: WALSegmentInfo[];
}

/** RestorePlan is everything restore fetches, in the order it is applied. */
export interface RestorePlan {
  replica: string;
  generation: string;
  snapshot: SnapshotInfo;
  /** indexes from the snapshot's index upwards, each non-empty and starting at offset 0. */
  indexes: IndexPlan[];
}

/**
 * Follows maps a generation to the generations it took over from (claim.ts follow
 * markers): it is the newer of each such pair, whatever the clocks say.
 */
export type Follows = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * chooseGeneration picks the generation to restore from all replicas' summaries, or throws
 * NoBackupError. Among those tied for the newest update, a generation another tied one
 * follows (and does not follow back) drops out first; compareCandidates orders the rest.
 */
export function chooseGeneration(all: GenerationSummary[], opts: TargetOptions, follows?: Follows): GenerationSummary {
  const starts = generationStarts(all);
  let cands = candidates(all, opts);
  if (follows) {
    const top = newestOf(cands);
    const follow = (a: string, b: string): boolean => follows.get(a)?.has(b) === true;
    const left = top.filter((s) => !top.some((o) => o.generation !== s.generation && follow(o.generation, s.generation) && !follow(s.generation, o.generation)));
    cands = left.length > 0 ? left : top;
  }
  return cands.reduce((best, s) => (compareCandidates(s, best, starts) > 0 ? s : best));
}

/**
 * latestTies names the generations that share the newest update among the candidates, when
 * there are two or more: a store that keeps whole seconds (S3, s3rver) ties generations
 * written within one second, and only their follow markers can tell them apart.
 */
export function latestTies(all: GenerationSummary[], opts: TargetOptions): string[] {
  if (opts.generation !== undefined) return [];
  const names = new Set(newestOf(candidates(all, opts)).map((s) => s.generation));
  return names.size > 1 ? [...names] : [];
}

/** newestOf keeps the summaries that share the newest updatedAt. */
function newestOf(cands: GenerationSummary[]): GenerationSummary[] {
  const newest = Math.max(...cands.map((s) => s.updatedAt.getTime()));
  return cands.filter((s) => s.updatedAt.getTime() === newest);
}

/** candidates are the summaries `opts` allows that hold a snapshot (NoBackupError or CorruptError when none). */
function candidates(all: GenerationSummary[], opts: TargetOptions): GenerationSummary[] {
  let cands = all;
  if (opts.generation !== undefined) {
    cands = cands.filter((s) => s.generation === opts.generation);
    if (cands.length === 0) throw new NoBackupError(`generation ${opts.generation} not found`);
  } else if (all.length === 0) {
    throw new NoBackupError('no generations found');
  }
  const ts = opts.timestamp?.getTime();
  if (ts !== undefined) {
    cands = cands.filter((s) => s.createdAt.getTime() <= ts && ts <= s.updatedAt.getTime());
    if (cands.length === 0) throw new NoBackupError(`no generation covers ${opts.timestamp!.toISOString()}${spans(all)}`);
  }
  const withSnapshot = cands.filter((s) => s.snapshots.length > 0);
  if (withSnapshot.length === 0) {
    const s = cands[0];
    throw new CorruptError(`generation ${s.generation}: no snapshot on replica ${s.replica}`);
  }
  return withSnapshot;
}

/** spans describes the newest generation's time range, for the message of a time outside every generation. */
function spans(all: GenerationSummary[]): string {
  const last = all.reduce((a, b) => (b.updatedAt.getTime() > a.updatedAt.getTime() ? b : a));
  return ` (the newest, ${last.generation}, spans ${last.createdAt.toISOString()} to ${last.updatedAt.toISOString()})`;
}

/** generationStarts maps each generation name to its earliest createdAt over every replica holding it. */
function generationStarts(all: GenerationSummary[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of all) {
    const t = s.createdAt.getTime();
    const cur = m.get(s.generation);
    if (cur === undefined || t < cur) m.set(s.generation, t);
  }
  return m;
}

/**
 * compareCandidates orders candidates: newer updatedAt first; on a tie the generation that
 * started later (a newer generation, never an older one); then the higher stored position
 * (the same generation on two replicas); earlier replicas win full ties (reduce keeps `best`).
 */
export function compareCandidates(a: GenerationSummary, b: GenerationSummary, starts?: Map<string, number>): number {
  const byUpdate = a.updatedAt.getTime() - b.updatedAt.getTime();
  if (byUpdate !== 0) return byUpdate;
  const startA = starts?.get(a.generation) ?? a.createdAt.getTime();
  const startB = starts?.get(b.generation) ?? b.createdAt.getTime();
  if (startA !== startB) return startA - startB;
  return comparePos(lastPosition(a), lastPosition(b));
}

/** chooseSnapshot picks the snapshot: highest index ≤ `index`, newest createdAt ≤ `timestamp`, else the highest index. */
export function chooseSnapshot(s: GenerationSummary, opts: TargetOptions): SnapshotInfo {
  let snaps = s.snapshots;
  if (opts.index !== undefined) {
    snaps = snaps.filter((x) => x.index <= opts.index!);
    if (snaps.length === 0) throw new CorruptError(`generation ${s.generation}: no snapshot at or before index ${hex8(opts.index)}`);
    return snaps[snaps.length - 1];
  }
  if (opts.timestamp !== undefined) {
    const ts = opts.timestamp.getTime();
    snaps = snaps.filter((x) => x.createdAt.getTime() <= ts);
    if (snaps.length === 0) {
      throw new CorruptError(`generation ${s.generation}: no snapshot at or before ${opts.timestamp.toISOString()}`);
    }
    return snaps.reduce((a, b) => (b.createdAt.getTime() >= a.createdAt.getTime() ? b : a));
  }
  if (snaps.length === 0) throw new CorruptError(`generation ${s.generation}: no snapshot`);
  return snaps[snaps.length - 1];
}

/** selectSegments returns the segments from the snapshot's index to the target, stopping at the first past it. */
export function selectSegments(s: GenerationSummary, snapshot: SnapshotInfo, opts: TargetOptions): WALSegmentInfo[] {
  const out: WALSegmentInfo[] = [];
  const ts = opts.timestamp?.getTime();
  for (const seg of s.segments) {
    if (seg.index < snapshot.index) continue;
    if (opts.index !== undefined && seg.index > opts.index) break;
    if (ts !== undefined && seg.createdAt.getTime() > ts) break;
    out.push(seg);
  }
  return out;
}

/** groupIndexes groups ordered segments by index, checking every index is present and starts at offset 0. */
export function groupIndexes(generation: string, fromIndex: number, segments: WALSegmentInfo[]): IndexPlan[] {
  const out: IndexPlan[] = [];
  for (const seg of segments) {
    const last = out[out.length - 1];
    if (last && last.index === seg.index) {
      last.segments.push(seg);
      continue;
    }
    const want = last ? last.index + 1 : fromIndex;
    if (seg.index !== want) {
      throw new CorruptError(`generation ${generation}: missing wal index ${hex8(want)} (next stored is ${hex8(seg.index)})`);
    }
    if (seg.offset !== 0) {
      throw new CorruptError(
        `generation ${generation}: wal index ${hex8(seg.index)}: missing initial segment ${walSegmentName(seg.index, 0)} (first stored is ${walSegmentName(seg.index, seg.offset)})`,
      );
    }
    out.push({ index: seg.index, segments: [seg] });
  }
  return out;
}

/** planRestore chooses generation (`follows`: the markers of latestTies), snapshot and segments, and checks the chain is complete. */
export function planRestore(all: GenerationSummary[], opts: TargetOptions, follows?: Follows): RestorePlan {
  if (opts.index !== undefined && opts.timestamp !== undefined) {
    throw new Error('cannot combine -index and -timestamp');
  }
  const s = chooseGeneration(all, opts, follows);
  const snapshot = chooseSnapshot(s, opts);
  const indexes = groupIndexes(s.generation, snapshot.index, selectSegments(s, snapshot, opts));
  if (opts.index !== undefined) checkTargetIndex(s, snapshot, indexes, opts.index);
  return { replica: s.replica, generation: s.generation, snapshot, indexes };
}

/** checkTargetIndex requires the requested `-index` to be reached: its segments, or the snapshot at exactly that index. */
function checkTargetIndex(s: GenerationSummary, snapshot: SnapshotInfo, indexes: IndexPlan[], index: number): void {
  const reached = indexes.length > 0 ? indexes[indexes.length - 1].index : snapshot.index;
  if (reached === index) return;
  const highest = s.segments.length > 0 ? s.segments[s.segments.length - 1].index : snapshot.index;
  throw new CorruptError(`generation ${s.generation}: no wal index ${hex8(index)} (highest is ${hex8(highest)})`);
}
