/** walindex: streaming verification of a WAL index — offsets, header, salts, chained checksums, commits. */
import { describe, expect, it } from 'vitest';
import { WALIndexer } from '../../../src/replicator/restore/walindex.js';
import { buildWAL } from './history.js';

const PS = 512;
const page = (b: number): Buffer => Buffer.alloc(PS, b);
const FRAME = PS + 24;

/** wal: page 2 and 3 committed (size 3), then page 2 again and page 4 committed (size 4), then page 5 uncommitted. */
const WAL = buildWAL(PS, [
  { pgno: 2, commit: 0, page: page(1) },
  { pgno: 3, commit: 3, page: page(2) },
  { pgno: 2, commit: 0, page: page(3) },
  { pgno: 4, commit: 4, page: page(4) },
  { pgno: 5, commit: 0, page: page(5) },
]);

function feed(ix: WALIndexer, segments: [string, number, Buffer][], chunk = 7): void {
  for (const [name, offset, bytes] of segments) {
    ix.beginSegment(name, offset);
    for (let i = 0; i < bytes.length; i += chunk) ix.push(bytes.subarray(i, i + chunk));
    ix.endSegment();
  }
}

describe('WALIndexer', () => {
  it.each([7, 1 << 20])('maps each page to its last committed frame and ignores frames after the last commit (chunks of %i)', (chunk) => {
    const ix = new WALIndexer(3);
    const cut = 32 + 2 * FRAME;
    feed(ix, [['a', 0, WAL.subarray(0, cut)], ['b', cut, WAL.subarray(cut)]], chunk);
    const r = ix.finish();
    expect(r.commitSize).toBe(4);
    expect([...r.pages.entries()].sort((a, b) => a[0] - b[0])).toEqual([[2, 32 + 2 * FRAME], [3, 32 + FRAME], [4, 32 + 3 * FRAME]]);
    expect(r).toMatchObject({ frames: 5, committedFrames: 4, size: WAL.length, pageSize: PS });
  });

  it('a gap between segments names both offsets', () => {
    const ix = new WALIndexer(1);
    feed(ix, [['00000001_00000000.wal.lz4', 0, WAL.subarray(0, 32 + FRAME)]]);
    expect(() => ix.beginSegment('00000001_00000668.wal.lz4', 32 + 3 * FRAME)).toThrow(
      'wal index 00000001: gap before segment 00000001_00000668.wal.lz4: it starts at offset 00000668, the previous segment ended at 00000238',
    );
  });

  it.each([7, 1 << 20])('a flipped byte in a page is a bad checksum naming the segment and frame (chunks of %i)', (chunk) => {
    const bad = Buffer.alloc(WAL.length);
    WAL.copy(bad);
    bad[32 + FRAME + 24 + 100] ^= 1;
    expect(() => feed(new WALIndexer(0), [['seg', 0, bad]], chunk)).toThrow('wal segment seg: frame at offset 00000238: bad wal checksum');
  });

  it('a frame with foreign salts is refused', () => {
    const other = buildWAL(PS, [{ pgno: 9, commit: 9, page: page(9) }], { salt: 99 });
    const mixed = Buffer.concat([WAL.subarray(0, 32 + FRAME), other.subarray(32)]);
    expect(() => feed(new WALIndexer(0), [['seg', 0, mixed]])).toThrow(/salt does not match/);
  });

  it('a bad header, a segment ending mid-frame, and an empty index are errors', () => {
    const hdr = Buffer.from(WAL);
    hdr[5] ^= 1;
    expect(() => feed(new WALIndexer(0), [['seg', 0, hdr]])).toThrow('wal segment seg: bad wal header (magic, page size or checksum)');
    expect(() => feed(new WALIndexer(0), [['seg', 0, WAL.subarray(0, 32 + 100)]])).toThrow('wal segment seg: ends inside a frame');
    expect(() => feed(new WALIndexer(0), [['seg', 0, WAL.subarray(0, 10)]])).toThrow('ends inside the wal header');
    expect(() => new WALIndexer(0).finish()).toThrow('no wal header');
  });
});
