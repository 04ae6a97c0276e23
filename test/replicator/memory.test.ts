import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../src/native.js';
import { MemoryTrimmer, TRIM_AFTER_BYTES } from '../../src/replicator/memory.js';
import { waitUntil } from '../helpers/wait.js';

describe('MemoryTrimmer', () => {
  it('schedules nothing below TRIM_AFTER_BYTES, one trim for a burst past it, and counts again after', async () => {
    let calls = 0;
    const t = new MemoryTrimmer(() => (calls++, true), 10);
    t.note(TRIM_AFTER_BYTES - 1);
    expect(t.pending).toBe(false);
    t.note(1);
    expect(t.pending).toBe(true);
    for (let i = 0; i < 10; i++) t.note(TRIM_AFTER_BYTES);
    await waitUntil(() => calls === 1, { what: 'the trim after the burst' });
    expect(t.pending).toBe(false);
    expect(t.trims).toBe(1);
    t.note(TRIM_AFTER_BYTES - 1);
    expect(t.pending).toBe(false);
    t.note(1);
    await waitUntil(() => calls === 2, { what: 'the trim after the second burst' });
  });

  it('is inert without the addon, and close drops a pending trim', () => {
    const inert = new MemoryTrimmer(undefined, 10);
    inert.note(TRIM_AFTER_BYTES * 2);
    expect(inert.pending).toBe(false);
    const t = new MemoryTrimmer(() => true, 60_000);
    t.note(TRIM_AFTER_BYTES);
    expect(t.pending).toBe(true);
    t.close();
    expect(t.pending).toBe(false);
  });

  it('the real addon trims: malloc_trim(0) runs and answers a boolean', () => {
    const { addon, error } = loadAddon();
    expect(addon, error).toBeDefined();
    const big = Array.from({ length: 64 }, () => Buffer.alloc(1 << 20, 1));
    expect(big.length).toBe(64);
    expect(typeof addon!.trimMemory()).toBe('boolean');
  });
});
