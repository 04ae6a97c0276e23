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

  it('starts over on another index or a jump in offsets, and keeps only the tail of a huge append', () => {
    const r = new RecentBytes(100);
    r.add(0, 32, Buffer.alloc(50, 1));
    r.add(1, 32, Buffer.alloc(20, 2));
    expect(r.get(0, 32, 40)).toBeUndefined();
    expect(r.get(1, 32, 52)).toEqual(Buffer.alloc(20, 2));
    r.add(1, 500, Buffer.alloc(10, 3));
    expect(r.get(1, 32, 52)).toBeUndefined();
    const big = crypto.randomBytes(350);
    r.add(1, 510, big);
    expect(r.get(1, 760, 860)).toEqual(big.subarray(250));
    expect(r.get(1, 759, 860)).toBeUndefined();
  });
});
