import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RecentBytes } from '../../src/replicator/recent.js';

describe('RecentBytes', () => {
  it('returns any held range of the latest bytes, across the ring wrap, and nothing older', () => {
    const r = new RecentBytes(100);
    const all = crypto.randomBytes(1000);
    let off = 32;
    for (const n of [10, 30, 45, 7, 60, 3, 90]) {
      r.add(0, off, all.subarray(off, off + n));
      off += n;
      const oldest = Math.max(32, off - 100);
      expect(r.get(0, oldest, off)).toEqual(all.subarray(oldest, off));
      expect(r.get(0, off - 5, off)).toEqual(all.subarray(off - 5, off));
      if (off - 100 > 32) expect(r.get(0, oldest - 1, off)).toBeUndefined();
    }
    expect(r.get(0, off - 10, off + 1)).toBeUndefined();
    expect(r.get(1, off - 10, off)).toBeUndefined();
  });

  it('keeps the tail of earlier indexes while a higher one fills, until the ring overwrites it', () => {
    const r = new RecentBytes(100);
    const a = crypto.randomBytes(60);
    const b = crypto.randomBytes(70);
    r.add(3, 32, a.subarray(0, 40));
    r.add(3, 72, a.subarray(40));
    r.add(4, 32, b.subarray(0, 30));
    expect(r.get(3, 32, 92)).toEqual(a);
    expect(r.get(4, 32, 62)).toEqual(b.subarray(0, 30));
    r.add(4, 62, b.subarray(30));
    expect(r.get(3, 32, 92)).toBeUndefined();
    expect(r.get(3, 62, 92)).toEqual(a.subarray(30));
    expect(r.get(3, 61, 92)).toBeUndefined();
    expect(r.get(4, 32, 102)).toEqual(b);
    r.add(5, 32, crypto.randomBytes(40));
    expect(r.get(3, 91, 92)).toBeUndefined();
    expect(r.get(4, 72, 102)).toEqual(b.subarray(40));
  });

  it('starts over when an index goes back, at a jump in offsets, or on clear, and keeps only the tail of a huge append', () => {
    const r = new RecentBytes(100);
    r.add(1, 32, Buffer.alloc(50, 1));
    r.add(0, 32, Buffer.alloc(20, 2));
    expect(r.get(1, 32, 40)).toBeUndefined();
    expect(r.get(0, 32, 52)).toEqual(Buffer.alloc(20, 2));
    r.add(0, 500, Buffer.alloc(10, 3));
    expect(r.get(0, 32, 52)).toBeUndefined();
    const big = crypto.randomBytes(350);
    r.add(0, 510, big);
    expect(r.get(0, 760, 860)).toEqual(big.subarray(250));
    expect(r.get(0, 759, 860)).toBeUndefined();
    r.clear();
    expect(r.get(0, 760, 860)).toBeUndefined();
    r.add(0, 32, Buffer.alloc(5, 4));
    expect(r.get(0, 32, 37)).toEqual(Buffer.alloc(5, 4));
    expect(r.added).toBe(50 + 20 + 10 + 350 + 5);
  });
});
