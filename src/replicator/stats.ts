/**
 * stats: the counters a database and its replicas keep while replicating, read by the
 * metrics endpoint (metrics.ts). Plain numbers, updated on the sync path at no cost.
 */
import { nowMs } from '../clock.js';
import type { CheckpointMode } from './sqlite.js';

/** CheckpointStats count one checkpoint mode's runs, failures and time. */
export interface CheckpointStats {
  count: number;
  errors: number;
  seconds: number;
}

/** DbStats count one database's syncs and checkpoints. */
export class DbStats {
  syncs = 0;
  syncErrors = 0;
  syncSeconds = 0;
  readonly checkpoints = new Map<CheckpointMode, CheckpointStats>();

  /** timeSync runs one sync, counting it, its time and its failure. */
  timeSync<T>(fn: () => T): T {
    return this.timed(fn, (s, failed) => {
      this.syncs++;
      this.syncSeconds += s;
      if (failed) this.syncErrors++;
    });
  }

  /** timeCheckpoint runs one checkpoint of `mode`, counting it, its time and its failure. */
  timeCheckpoint<T>(mode: CheckpointMode, fn: () => T): T {
    return this.timed(fn, (s, failed) => {
      let c = this.checkpoints.get(mode);
      if (!c) this.checkpoints.set(mode, (c = { count: 0, errors: 0, seconds: 0 }));
      c.count++;
      c.seconds += s;
      if (failed) c.errors++;
    });
  }

  private timed<T>(fn: () => T, record: (seconds: number, failed: boolean) => void): T {
    const t0 = nowMs();
    let failed = true;
    try {
      const out = fn();
      failed = false;
      return out;
    } finally {
      record((nowMs() - t0) / 1000, failed);
    }
  }
}

/** ReplicaStats count one replica's failed syncs, its last error, and when it was last caught up. */
export class ReplicaStats {
  syncErrors = 0;
  /** caughtUpAt is the time (ms since the epoch) a sync last left the replica holding the database's position. */
  caughtUpAt: number | undefined;
  /** lastError is the last failed sync's message and time (ms since the epoch); kept after a recovery. */
  lastError: { message: string; at: number } | undefined;
  /** failing: the last sync attempt failed (retries go on). */
  failing = false;
}
