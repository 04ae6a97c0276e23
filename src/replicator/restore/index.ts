/**
 * restore: rebuild a database from a replica — the library function behind `lifeboat
 * restore` and the init's restore-on-boot. Steps, top to bottom:
 *
 * 1. Refuse an existing output (or report it, with `ifDbNotExists`).
 * 2. List every replica's generations and plan: generation, snapshot, WAL segments, with
 *    continuity checked. No backup at all is NoBackupError (or a result, with `ifReplicaExists`).
 * 3. Move aside stale `-wal` / `-shm` / `-journal` / meta directory beside the missing output;
 *    remove build directories of earlier restores that were killed (abandoned.ts).
 * 4. Build in a private temp directory beside the output, owned by this process: snapshot, WAL indexes downloaded
 *    in parallel and verified, pages applied in order (transfer.ts).
 * 5. fsync, optionally `PRAGMA integrity_check`, install without replacing, fsync the directory.
 * 6. Remove the temp directory — on success, failure and abort alike.
 * 7. A configured database restored to its latest state: leave the marker that lets the
 *    replicator continue its generation (restored.ts).
 */
import path from 'node:path';
import { errorMessage, isDiskFull, wrapError } from '../../errors.js';
import { log as defaultLog, type Logger } from '../../log.js';
import { loadFollows } from '../claim.js';
import { isMissingFileReplica } from '../clients/file.js';
import { summarizeGeneration, summarizeReplica, type GenerationSummary, type NamedClient } from '../generations.js';
import { metaDir } from '../layout.js';
import { hex8 } from '../pos.js';
import { writeRestoredMarker } from '../restored.js';
import { claimBuildDir, removeAbandoned } from './abandoned.js';
import { NoBackupError } from './errors.js';
import { exists, install, integrityCheck, makeTempDir, moveAsideStale, removeQuietly } from './output.js';
import { type Follows, latestTies, planRestore, type RestorePlan, type TargetOptions } from './plan.js';
import { ProgressTracker, type RestoreProgress, type RestoreStats } from './progress.js';
import type { Skipped } from './tail.js';

/** Re-exported: the two errors callers tell apart, and the plan and progress types. */
export { NoBackupError, CorruptError } from './errors.js';
export type { RestorePlan, TargetOptions } from './plan.js';
export type { RestoreProgress, RestoreStats } from './progress.js';
export type { Skipped } from './tail.js';

/** DEFAULT_PARALLELISM is how many downloads run at once (the reference's default). */
export const DEFAULT_PARALLELISM = 8;

/** RestoreOptions: the replicas to consider (in config order), the output and the target. */
export interface RestoreOptions extends TargetOptions {
  replicas: NamedClient[];
  outputPath: string;
  /** metaPath is the database's configured meta directory, if any (checked for staleness). */
  metaPath?: string;
  parallelism?: number;
  ifDbNotExists?: boolean;
  ifReplicaExists?: boolean;
  integrityCheck?: boolean;
  /**
   * markContinuation: the output is a configured database; after restoring the latest state
   * leave the marker that lets `replicate` continue its generation (restored.ts).
   */
  markContinuation?: boolean;
  /** queueBudget: WAL bytes held on disk before pages are written early (default 1 GiB). */
  queueBudget?: number;
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
  logger?: Logger;
}

/** RestoreResult: restored (with the plan and stats), or skipped because the output exists or no backup does. */
export type RestoreResult =
  | { status: 'restored'; outputPath: string; plan: RestorePlan; targetIndex: number; stats: RestoreStats; skipped: Skipped[] }
  | { status: 'output-exists'; outputPath: string; message: string }
  | { status: 'no-backup'; outputPath: string; message: string };

/** restore rebuilds `opts.outputPath` from the best matching backup (see the steps above). */
export async function restore(opts: RestoreOptions): Promise<RestoreResult> {
  const start = Date.now();
  const out = path.resolve(opts.outputPath);
  const logger = opts.logger ?? defaultLog;
  checkOptions(opts);
  if (await exists(out)) {
    const message = `output ${out} already exists`;
    if (opts.ifDbNotExists) return { status: 'output-exists', outputPath: out, message };
    throw new Error(`${message} (remove it, choose another with -o, or pass -if-db-not-exists)`);
  }
  let plan: RestorePlan;
  try {
    const all = await listAll(opts.replicas, opts.generation, opts.signal);
    if (all.length === 0) throw nothingFound(opts);
    plan = planRestore(all, opts, await followsOfTies(all, opts, logger));
  } catch (err) {
    if (err instanceof NoBackupError && opts.ifReplicaExists) return { status: 'no-backup', outputPath: out, message: err.message };
    throw err;
  }
  logger.debug('restore plan', {
    replica: plan.replica,
    generation: plan.generation,
    snapshot: hex8(plan.snapshot.index),
    wal_indexes: plan.indexes.length,
    output: out,
  });
  const skipped = await skipTornTail(plan, opts, logger);
  await moveAsideStale(out, opts.metaPath, logger);
  await removeAbandoned(out, logger);
  const { stats, lastIndexSize } = await build(plan, out, opts, start);
  const targetIndex = plan.indexes.length > 0 ? plan.indexes[plan.indexes.length - 1].index : plan.snapshot.index;
  // A configured database restored to the end of its latest generation: the replicator may
  // continue that generation (restored.ts).
  const latest = opts.generation === undefined && opts.index === undefined && opts.timestamp === undefined;
  if (opts.markContinuation && latest && lastIndexSize > 0 && skipped.length === 0) {
    writeRestoredMarker(metaDir(out, opts.metaPath), out, { generation: plan.generation, index: targetIndex, offset: lastIndexSize });
  }
  logger.debug('restored', { path: out, replica: plan.replica, generation: plan.generation, index: hex8(targetIndex) });
  return { status: 'restored', outputPath: out, plan, targetIndex, stats, skipped };
}

/**
 * skipTornTail drops the generation's unreadable last segments (tail.ts) and warns once
 * for each, naming it: the restore stops at the last good segment. With `-index` the
 * target must be reached as asked, so nothing is dropped (a bad segment fails the restore).
 */
async function skipTornTail(plan: RestorePlan, opts: RestoreOptions, logger: Logger): Promise<Skipped[]> {
  if (opts.index !== undefined) return [];
  const client = opts.replicas.find((r) => r.name === plan.replica)!.client;
  // Loaded only when there is something to restore (the decoder with it): a restore that
  // finds nothing, as on every first boot, skips their load.
  const { dropTornTail } = await import('./tail.js');
  const skipped = await dropTornTail(plan, client, opts.signal);
  for (const s of skipped) logger.warn('restore stops before an unreadable wal segment: skipped it', { segment: s.segment, reason: s.reason });
  return skipped;
}

/**
 * followsOfTies reads the follow markers of the generations tied for the latest (plan.ts),
 * from each replica holding them. They only order a tie: when they cannot be read, a
 * warning, and the tie is ordered without them.
 */
async function followsOfTies(all: GenerationSummary[], opts: RestoreOptions, logger: Logger): Promise<Follows | undefined> {
  const ties = latestTies(all, opts);
  if (ties.length === 0) return undefined;
  const out = new Map<string, Set<string>>();
  for (const r of opts.replicas) {
    const here = ties.filter((g) => all.some((s) => s.replica === r.name && s.generation === g));
    try {
      for (const [g, set] of await loadFollows(r.client, here, opts.signal)) out.set(g, new Set([...(out.get(g) ?? []), ...set]));
    } catch (err) {
      opts.signal?.throwIfAborted();
      logger.warn('cannot list follow markers: the generations tied for the latest are ordered without them', { replica: r.name, error: errorMessage(err) });
    }
  }
  return out;
}

/** checkOptions validates what the types cannot express. */
function checkOptions(opts: RestoreOptions): void {
  if (opts.replicas.length === 0) throw new Error('no replicas to restore from');
  if (!opts.outputPath) throw new Error('output path required');
  if (opts.index !== undefined && opts.timestamp !== undefined) throw new Error('cannot combine -index and -timestamp');
  const p = opts.parallelism ?? DEFAULT_PARALLELISM;
  if (!Number.isInteger(p) || p < 1) throw new Error(`invalid parallelism ${p}: must be a positive integer`);
}

/** nothingFound is the NoBackupError for replicas without any generation (or the one asked for), naming where it looked. */
function nothingFound(opts: RestoreOptions): NoBackupError {
  const what = opts.generation === undefined ? 'no generations found' : `generation ${opts.generation} not found`;
  return new NoBackupError(`${what} in ${describeReplicas(opts.replicas)}`);
}

/**
 * describeReplicas names the replicas looked at: the location alone for one
 * (`/backups/app`, `s3://bucket/app?endpoint=…`), `name location` each for several;
 * a file replica whose directory does not exist says so.
 */
export function describeReplicas(replicas: NamedClient[]): string {
  return replicas
    .map((r) => {
      const loc = `${replicas.length > 1 ? `${r.name} ` : ''}${r.client.location}`;
      return isMissingFileReplica(r.client) ? `${loc} (no such directory)` : loc;
    })
    .join(', ');
}

/** listAll summarizes the generations of every replica in parallel (only the one asked for, with -generation). */
async function listAll(replicas: NamedClient[], generation: string | undefined, signal?: AbortSignal): Promise<GenerationSummary[]> {
  if (generation !== undefined) {
    const found = await Promise.all(replicas.map((r) => summarizeGeneration(r, generation, signal)));
    return found.filter((s): s is GenerationSummary => s !== undefined);
  }
  const lists = await Promise.all(replicas.map((r) => summarizeReplica(r, signal)));
  return lists.flat();
}

/** build runs the transfer in a temp directory beside `out`, then checks and installs the result. */
async function build(plan: RestorePlan, out: string, opts: RestoreOptions, start: number): Promise<{ stats: RestoreStats; lastIndexSize: number }> {
  const client = opts.replicas.find((r) => r.name === plan.replica)!.client;
  const tempDir = await makeTempDir(out);
  const dbPath = path.join(tempDir, 'db');
  const tracker = new ProgressTracker(plan, opts.onProgress);
  // Should the process exit mid-restore (process.exit elsewhere, a drained event loop),
  // still leave nothing behind.
  const onExit = (): void => removeQuietly(tempDir);
  process.once('exit', onExit);
  try {
    await claimBuildDir(tempDir);
    const logger = opts.logger ?? defaultLog;
    const onRetry = (piece: string, attempt: number, err: Error): void => logger.warn('download broke off: starting it over', { piece, attempt, error: err.message });
    const { transfer } = await import('./transfer.js');
    const res = await transfer(plan, { client, dbPath, tempDir, parallelism: opts.parallelism ?? DEFAULT_PARALLELISM, queueBudget: opts.queueBudget, tracker, signal: opts.signal, onRetry });
    const t = Date.now();
    if (opts.integrityCheck) await integrityCheck(dbPath);
    const checkMs = opts.integrityCheck ? Date.now() - t : 0;
    opts.signal?.throwIfAborted();
    await install(dbPath, out);
    const stats: RestoreStats = {
      snapshotBytes: res.snapshot.size,
      walBytes: res.walBytes,
      storedBytes: tracker.current().storedBytes,
      segments: plan.indexes.reduce((n, i) => n + i.segments.length, 0),
      indexes: plan.indexes.length,
      pagesWritten: res.pagesWritten,
      downloadMs: res.downloadMs,
      applyMs: res.applyMs,
      checkMs,
      totalMs: Date.now() - start,
    };
    return { stats, lastIndexSize: res.lastIndexSize };
  } catch (err) {
    // Say where: the temp directory is beside the output, on the output's disk.
    if (isDiskFull(err)) throw wrapError(`write ${out}`, err);
    throw err;
  } finally {
    process.off('exit', onExit);
    removeQuietly(tempDir);
  }
}
