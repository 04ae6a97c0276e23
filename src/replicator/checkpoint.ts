/**
 * checkpoint: when the replicator checkpoints, as a pure function of sizes and times
 * (the spec's rules, first match wins).
 */
import { TRUNCATE_CHECKPOINT_PAGE_COUNT } from '../config/defaults.js';
import type { CheckpointMode } from './sqlite.js';
import { WAL_HEADER_SIZE, frameSize } from './wal.js';

/** MAX_SHADOW_BYTES forces a RESTART before one WAL index nears the 8-hex-digit offset limit. */
export const MAX_SHADOW_BYTES = 1024 * 1024 * 1024;

/** CheckpointInput is what the decision needs to know. */
export interface CheckpointInput {
  pageSize: number;
  walSize: number;
  shadowSize: number;
  dbModifiedMs: number;
  nowMs: number;
  minCheckpointPageCount: number;
  maxCheckpointPageCount: number;
  checkpointInterval: number;
}

/** pageCount is the number of whole frames in a WAL or shadow WAL file of `size` bytes. */
export function pageCount(size: number, pageSize: number): number {
  return size <= WAL_HEADER_SIZE ? 0 : Math.floor((size - WAL_HEADER_SIZE) / frameSize(pageSize));
}

/**
 * decideCheckpoint returns the checkpoint to run, if any: TRUNCATE when the real WAL
 * reaches 500,000 pages; RESTART at `max-checkpoint-page-count` shadow pages (0 = off) or
 * near the offset limit; PASSIVE at `min-checkpoint-page-count`, or when the database file
 * has not changed for `checkpoint-interval` and the shadow WAL holds more than one frame.
 */
export function decideCheckpoint(i: CheckpointInput): CheckpointMode | undefined {
  const walPages = pageCount(i.walSize, i.pageSize);
  const shadowPages = pageCount(i.shadowSize, i.pageSize);
  if (walPages >= TRUNCATE_CHECKPOINT_PAGE_COUNT) return 'TRUNCATE';
  if (i.maxCheckpointPageCount > 0 && shadowPages >= i.maxCheckpointPageCount) return 'RESTART';
  if (i.shadowSize >= MAX_SHADOW_BYTES) return 'RESTART';
  if (shadowPages >= i.minCheckpointPageCount) return 'PASSIVE';
  if (i.checkpointInterval > 0 && i.nowMs - i.dbModifiedMs >= i.checkpointInterval && shadowPages > 1) return 'PASSIVE';
  return undefined;
}
