/**
 * wal-rate: how fast the real WAL grows, measured between the replicator's looks. The
 * checkpointer (checkpointer.ts) uses it to step aside just before the app's own
 * checkpoint is due.
 */
import { nowMs } from '../clock.js';

/** WalRate tracks the WAL's growth in frames per ms from one look to the next. */
export class WalRate {
  /** lastLook is when the previous sync looked and how many frames had been copied by then. */
  private lastLook = { at: 0, frames: 0 };
  private lastRate = 0;
  /** framesPerMs is the current estimate (0 until two looks were measured). */
  framesPerMs = 0;

  /**
   * measure updates how fast the WAL grows (frames per ms) from `frames`, the number of
   * frames copied so far: the faster of the last two intervals between looks, since an
   * interval that spans the app's own checkpoint understates it, and a late estimate lets
   * the app's checkpoint come first (Checkpointer.stepAside).
   */
  measure(frames: number): void {
    const now = nowMs();
    const rate = this.lastLook.at > 0 ? (frames - this.lastLook.frames) / Math.max(now - this.lastLook.at, 0.01) : 0;
    this.framesPerMs = Math.max(rate, this.lastRate);
    this.lastRate = rate;
    this.lastLook = { at: now, frames };
  }
}
