/**
 * transfer: the running restore. `parallelism` workers take the snapshot and then every
 * WAL segment in (index, offset) order — so that many downloads are always in flight,
 * however the segments are spread over indexes — each segment decompressed into its
 * index's file in the temp directory (the on-disk queue; assembly.ts verifies an index
 * once its last segment lands). The applier folds the indexes in strictly in order as
 * they complete — while later ones still download — and writes pages when the queue
 * outgrows its budget and once at the end. Any failure aborts every download.
 */
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import type { ReplicaClient } from '../replica-client.js';
import { hex8 } from '../pos.js';
import { PageApplier, type QueuedWAL } from './apply.js';
import { CorruptError } from './errors.js';
import { IndexAssembly } from './assembly.js';
import { fetchSegment, fetchSnapshot, type FetchContext, type FetchedSnapshot } from './fetch.js';
import type { RestorePlan } from './plan.js';
import { deferred, runPool, type Deferred } from './pool.js';
import type { ProgressTracker } from './progress.js';
import { fsyncFile } from '../../fsync.js';

/** DEFAULT_QUEUE_BUDGET: WAL bytes held on disk before the applier writes pages early (1 GiB). */
export const DEFAULT_QUEUE_BUDGET = 1 << 30;

/** TransferOptions: where to build, how many workers, the queue budget, abort and counters. */
export interface TransferOptions {
  client: ReplicaClient;
  dbPath: string;
  tempDir: string;
  parallelism: number;
  queueBudget?: number;
  tracker: ProgressTracker;
  signal?: AbortSignal;
  onRetry?: FetchContext['onRetry'];
}

/** TransferResult: what was fetched and how long downloading and applying took. */
export interface TransferResult {
  snapshot: FetchedSnapshot;
  walBytes: number;
  /** lastIndexSize is the size of the last WAL index applied (where its generation continues), 0 if none. */
  lastIndexSize: number;
  pagesWritten: number;
  downloadMs: number;
  applyMs: number;
}

/** Downloads is the state the workers share: where each result goes, and how to stop them all. */
interface Downloads {
  ctx: FetchContext;
  snap: Deferred<FetchedSnapshot>;
  slots: Deferred<QueuedWAL>[];
  assemblies: IndexAssembly[];
  fail(err: unknown): void;
}

/** transfer fetches the plan's snapshot and WAL segments and applies them to `dbPath`. */
export async function transfer(plan: RestorePlan, opts: TransferOptions): Promise<TransferResult> {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  const onAbort = (): void => ac.abort(opts.signal!.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  const d = downloads(plan, opts, ac);
  const start = Date.now();
  let downloadMs = 0;
  const pool = runPool(jobs(plan, opts, d), opts.parallelism, d.fail).then(() => {
    downloadMs = Date.now() - start;
  });
  pool.catch(() => {});
  const applier = new PageApplier(opts.dbPath);
  try {
    const applied = await applyAll(applier, d.snap, d.slots, opts);
    await pool;
    return { ...applied, downloadMs };
  } catch (err) {
    d.fail(err);
    await pool.catch(() => {});
    applier.discard();
    throw err;
  } finally {
    await Promise.all(d.assemblies.map((a) => a.close().catch(() => {})));
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** downloads sets up the shared state; `fail` aborts every download and rejects every pending result. */
function downloads(plan: RestorePlan, opts: TransferOptions, ac: AbortController): Downloads {
  const snap = deferred<FetchedSnapshot>();
  const slots = plan.indexes.map(() => deferred<QueuedWAL>());
  return {
    ctx: { client: opts.client, generation: plan.generation, counters: opts.tracker, signal: ac.signal, onRetry: opts.onRetry },
    snap,
    slots,
    assemblies: plan.indexes.map((ip) => new IndexAssembly(plan.generation, ip, path.join(opts.tempDir, `wal-${hex8(ip.index)}`))),
    fail(err: unknown): void {
      ac.abort(err);
      for (const x of [snap, ...slots] as Deferred<unknown>[]) x.reject(err);
    },
  };
}

/**
 * jobs lists the work in order: the snapshot, then every segment by (index, offset). When
 * an index's last segment lands, its verification starts without holding the download slot.
 */
function jobs(plan: RestorePlan, opts: TransferOptions, d: Downloads): (() => Promise<void>)[] {
  return [
    async () => d.snap.resolve(await fetchSnapshot(d.ctx, plan.snapshot, opts.dbPath)),
    ...plan.indexes.flatMap((ip, i) =>
      ip.segments.map((seg, j) => async () => {
        const a = d.assemblies[i];
        if (a.landed(j, await fetchSegment(d.ctx, a, seg, j))) a.finish().then(d.slots[i].resolve, d.fail);
      }),
    ),
  ];
}

/** applyAll folds the indexes in order as they arrive, flushing early past the budget, and once at the end; then fsyncs. */
async function applyAll(
  applier: PageApplier,
  snap: Deferred<FetchedSnapshot>,
  slots: Deferred<QueuedWAL>[],
  opts: TransferOptions,
): Promise<Omit<TransferResult, 'downloadMs'>> {
  const budget = opts.queueBudget ?? DEFAULT_QUEUE_BUDGET;
  let applyMs = 0;
  let walBytes = 0;
  let lastIndexSize = 0;
  const flush = async (): Promise<FetchedSnapshot> => {
    const snapshot = await snap.promise;
    checkPageSize(snapshot, applier);
    const t = Date.now();
    applier.flush();
    applyMs += Date.now() - t;
    return snapshot;
  };
  for (const slot of slots) {
    const wal = await slot.promise;
    walBytes += wal.size;
    lastIndexSize = wal.size;
    const t = Date.now();
    applier.add(wal);
    applyMs += Date.now() - t;
    if (applier.queuedBytes > budget) await flush();
    opts.tracker.onApplied();
  }
  const snapshot = await flush();
  const t = Date.now();
  await Promise.all([fsyncFile(opts.dbPath), applier.deletions()]);
  applyMs += Date.now() - t;
  return { snapshot, walBytes, lastIndexSize, pagesWritten: applier.stats.pagesWritten, applyMs };
}

/** checkPageSize requires the snapshot and the WAL indexes to agree on the page size. */
function checkPageSize(snapshot: FetchedSnapshot, applier: PageApplier): void {
  if (applier.pageSize !== 0 && applier.pageSize !== snapshot.pageSize) {
    throw new CorruptError(`snapshot page size ${snapshot.pageSize} differs from the wal page size ${applier.pageSize}`);
  }
}
