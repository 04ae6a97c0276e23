/**
 * replicator: runs every database of a config — wakes on WAL file events (or polls while a
 * database is busy, see wake.ts) and on the monitor-interval tick, syncs the Db, notifies its replicas, trims the shadow WAL, and
 * performs the final sync on stop.
 */
import { fs } from '../builtin.js';
import path from 'node:path';
import type { Config } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { log as rootLog, type Logger } from '../log.js';
import { createReplicaClient } from './clients/index.js';
import { Db } from './db.js';
import { finalSync } from './final-sync.js';
import { PositionLog } from './lag.js';
import { LAG_SAMPLE_MS, LagHistory } from './lag-history.js';
import { comparePos, formatPos, type Pos } from './pos.js';
import { Replica } from './replica.js';
import { busyPollMs, POLL_MS, Waker } from './wake.js';
import { acquireWriterLock, type WriterLock } from './writer-lock.js';

/** DbRunner drives one Db and its replicas. */
export class DbRunner {
  readonly db: Db;
  readonly replicas: Replica[];
  /** positions is the log of the database's positions and when each was first seen (lag.ts). */
  readonly positions = new PositionLog();
  /** held is the last restorable position seen of each replica: what it holds even while its syncs fail. */
  private readonly held = new Map<Replica, Pos>();
  /** lagHistories hold each replica's lag over the last hour (the status page's sparkline). */
  private readonly lagHistories = new Map<Replica, LagHistory>();
  private readonly waker: Waker;
  private ticker: NodeJS.Timeout | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private scheduled = false;
  private stopped = false;
  /** lastLookAt is when runSync last ran (Date.now()). */
  private lastLookAt = 0;

  constructor(db: Db, replicas: Replica[]) {
    this.db = db;
    this.replicas = replicas;
    this.waker = new Waker({
      dir: path.dirname(db.path),
      names: new Set([path.basename(db.path), path.basename(db.walPath)]),
      pollMs: busyPollMs(db.config.replicas.map((r) => r.syncInterval)),
      onWake: () => this.schedule(),
      log: db.log,
    });
    for (const r of replicas) r.beforeDeferredSync = () => this.lookNow();
  }

  /** start opens the database if it exists (else waits for it), watches it, and syncs once. */
  start(): void {
    this.db.on('change', () => {
      this.observe();
      for (const r of this.replicas) r.notify();
    });
    this.db.open();
    this.waker.start();
    this.ticker = setInterval(() => this.schedule(), this.db.config.monitorInterval);
    this.sampler = setInterval(() => this.sampleLag(), LAG_SAMPLE_MS).unref();
    for (const r of this.replicas) r.start();
    this.runSync();
  }

  /**
   * lookNow syncs the database at once (a replica's held-back upload is about to start),
   * unless stopping or a look ran within POLL_MS: replicas sharing a sync-interval come due
   * together, and looks a fraction of a ms apart would misjudge the WAL's growth rate.
   */
  private lookNow(): void {
    if (!this.stopped && Date.now() - this.lastLookAt >= POLL_MS) this.runSync();
  }

  /** schedule coalesces wake-ups into one sync on the next turn of the event loop. */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.runSync();
    });
  }

  /** stop ends watching; with `flush`, copies the last frames and brings every replica up to date by `deadline` (Date.now() clock). */
  async stop(flush: boolean, deadline = Infinity): Promise<boolean> {
    this.stopped = true;
    this.waker.stop();
    if (this.ticker) clearInterval(this.ticker);
    if (this.sampler) clearInterval(this.sampler);
    if (!flush) {
      await Promise.all(this.replicas.map((r) => r.stop()));
      return true;
    }
    this.runSync();
    const results = await Promise.all(this.replicas.map((r) => finalSync(r, deadline)));
    // One replica's sync can end the generation after another's finished: that one follows.
    const late = results.every(Boolean) ? this.lagging() : [];
    const again = await Promise.all(late.map((r) => finalSync(r, deadline)));
    const ok = results.every(Boolean) && again.every(Boolean) && this.lagging().length === 0;
    if (ok && this.db.state === 'open') this.db.log.info('final sync complete', { generation: this.db.generation });
    return ok;
  }

  /**
   * behind describes each replica that does not hold the database's current position:
   * `<db> to <replica> (replica at <pos>, database at <pos>)`.
   */
  behind(): string[] {
    const at = this.db.pos();
    if (!at) return [];
    return this.lagging().map((r) => `${this.db.path} to ${r.name} (replica at ${r.restorablePos ? formatPos(r.restorablePos) : 'no restorable position'}, database at ${formatPos(at)})`);
  }

  /** lag is how far (ms) `replica` is behind the database at `now` (lag.ts; 0 while it holds the database's position). */
  lag(replica: Replica, now = Date.now()): number {
    return this.positions.lag(this.heldBy(replica), now);
  }

  /** lagHistory is `replica`'s lag over the last hour (lag-history.ts). */
  lagHistory(replica: Replica): LagHistory {
    let h = this.lagHistories.get(replica);
    if (!h) this.lagHistories.set(replica, (h = new LagHistory()));
    return h;
  }

  /** sampleLag records each replica's lag now, while the database is open. */
  private sampleLag(): void {
    if (this.db.state !== 'open') return;
    const now = Date.now();
    for (const r of this.replicas) this.lagHistory(r).record(now, this.lag(r, now));
  }

  /** heldBy is the last restorable position seen of `replica` (kept while its syncs fail: the replica still holds it). */
  heldBy(replica: Replica): Pos | undefined {
    const p = replica.restorablePos;
    if (p) this.held.set(replica, p);
    return this.held.get(replica);
  }

  /** observe records the database's position (first seen now) and forgets what every replica holds. */
  private observe(): void {
    const p = this.db.pos();
    if (!p) return;
    this.positions.observe(p, Date.now());
    this.positions.prune(this.replicas.map((r) => this.heldBy(r)));
  }

  /** lagging lists the replicas that cannot restore the database's current position. */
  private lagging(): Replica[] {
    const at = this.db.pos();
    if (!at) return [];
    const holds = (p: Pos | undefined) => p !== undefined && p.generation === at.generation && comparePos(p, at) === 0;
    return this.replicas.filter((r) => !holds(r.restorablePos));
  }

  private runSync(): void {
    this.lastLookAt = Date.now();
    try {
      this.waker.observed(this.db.sync());
      this.observe();
      const soon = this.db.lookAgainIn;
      if (soon !== undefined) this.waker.soon(soon);
      this.trimShadow();
    } catch (err) {
      this.db.log.error('sync failed', { error: errorMessage(err) });
    }
  }

  /** trimShadow deletes shadow WAL files every replica is done with (keeping one extra). */
  private trimShadow(): void {
    const gen = this.db.generation;
    let min = Infinity;
    for (const r of this.replicas) {
      if (!r.pos || r.pos.generation !== gen) return;
      min = Math.min(min, r.pos.index);
    }
    if (min !== Infinity && min > 1) this.db.removeShadowBelow(min - 1);
  }

}

/** Replicator runs every database of a config. */
export class Replicator {
  /** stopping is true once `stop` began (the final sync, then closed): a stopping replicator is not a healthy one. */
  stopping = false;

  readonly runners: DbRunner[];
  /** unsynced describes, after a `stop` whose final sync did not complete, each replica left behind (DbRunner.behind). */
  unsynced: string[] = [];
  private readonly locks = new Map<Db, WriterLock>();

  constructor(config: Config, logger: Logger = rootLog) {
    this.runners = config.dbs.map((dbc) => {
      const db = new Db(dbc, logger);
      const replicas = dbc.replicas.map(
        (rc) => new Replica(db, rc, createReplicaClient(rc, { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }), db.log),
      );
      return new DbRunner(db, replicas);
    });
  }

  /**
   * start takes every database's writer lock (throws WriterLockError if another process
   * holds one), opens every database (or starts waiting for it) and begins replicating. When it
   * returns the replicator is ready: read locks held and shadow WALs in place, or a watch
   * on each database that does not exist yet. Uploads continue in the background.
   */
  start(): void {
    this.lockAll();
    for (const r of this.runners) r.start();
  }

  /**
   * lockAll takes every database's writer lock (writer-lock.ts), or none: a second
   * replicator refuses to start. The lock lives beside the database, so one whose
   * directory does not exist yet is locked when it is opened (Db.beforeOpen).
   */
  private lockAll(): void {
    try {
      for (const r of this.runners) {
        if (fs.existsSync(path.dirname(r.db.path))) this.lock(r.db);
        else r.db.beforeOpen = () => this.lock(r.db);
      }
    } catch (err) {
      this.releaseLocks();
      throw err;
    }
  }

  private lock(db: Db): void {
    if (!this.locks.has(db)) this.locks.set(db, acquireWriterLock(db.path));
  }

  private releaseLocks(): void {
    for (const l of this.locks.values()) l.release();
    this.locks.clear();
  }

  /**
   * stop performs the final sync of every database to every replica, retrying failures for
   * at most `timeoutMs` (Infinity: no limit); true if all completed in time.
   */
  async stop(flush = true, timeoutMs = Infinity): Promise<boolean> {
    this.stopping = true;
    const deadline = Date.now() + timeoutMs;
    const results = await Promise.all(this.runners.map((r) => r.stop(flush, deadline)));
    this.unsynced = results.every(Boolean) ? [] : this.runners.flatMap((r) => r.behind());
    for (const r of this.runners) r.db.close({ keepWAL: true });
    this.releaseLocks();
    await Promise.all(this.runners.flatMap((r) => r.replicas.map((rep) => rep.client.close())));
    return results.every(Boolean);
  }
}
