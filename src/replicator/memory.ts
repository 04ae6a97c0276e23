/**
 * memory: hand the memory of a burst of uploads back to the kernel. A catch-up after an
 * outage, or a snapshot, passes megabytes through Buffers; once they are freed, glibc's
 * allocator keeps the pages, so the replicator's resident size would stay at the largest
 * burst it ever saw and creep up with fragmentation. Measured over S3 fault cycles with
 * 15 s outages: without a trim, 85 → 120 MB after 20 cycles while the live JavaScript heap
 * stayed at 12 MB; with it, 89–105 MB throughout (docs/reliability.md).
 */
import { loadAddon, type NativeAddon } from '../native.js';

/** TRIM_AFTER_BYTES: a trim is due once this many bytes were uploaded since the last one. */
export const TRIM_AFTER_BYTES = 4 << 20;

/** TRIM_DELAY_MS: how long after it is due the trim runs (the burst's Buffers are collected meanwhile). */
export const TRIM_DELAY_MS = 2_000;

/** MemoryTrimmer counts uploaded bytes and trims the allocator a little after each burst. */
export class MemoryTrimmer {
  private bytes = 0;
  private timer?: NodeJS.Timeout;
  /** trims counts the trims run (for tests and debugging). */
  trims = 0;

  /** `trim` releases free memory (the addon's trimMemory); absent, nothing is ever trimmed. */
  constructor(private readonly trim: (() => boolean) | undefined, private readonly delayMs = TRIM_DELAY_MS) {}

  /** note records `bytes` uploaded; schedules a trim once TRIM_AFTER_BYTES have gone by since the last. */
  note(bytes: number): void {
    if (!this.trim) return;
    this.bytes += bytes;
    if (this.bytes < TRIM_AFTER_BYTES || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.bytes = 0;
      this.trims++;
      this.trim!();
    }, this.delayMs).unref();
  }

  /** pending says whether a trim is scheduled. */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** close drops a pending trim. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

let shared: MemoryTrimmer | undefined;

/** processTrimmer is the one trimmer of this process, on the native addon when it loads (else inert). */
export function processTrimmer(): MemoryTrimmer {
  if (!shared) {
    const addon: NativeAddon | undefined = loadAddon().addon;
    shared = new MemoryTrimmer(addon ? () => addon.trimMemory() : undefined);
  }
  return shared;
}
