/**
 * apply: the page applier produces, byte for byte, what SQLite's own checkpoints produce
 * (the reference's restore: each index's WAL beside the database, wal_checkpoint(TRUNCATE))
 * — on hand-built WALs that shrink and regrow the file, and on real random histories.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { PageApplier } from '../../../src/replicator/restore/apply.js';
import { WALIndexer } from '../../../src/replicator/restore/walindex.js';
import { walSegmentName } from '../../../src/replicator/layout.js';
import { tmpDir } from '../../helpers/tmp.js';
import { buildWAL, captureHistory, replayWithSQLite, rng, splitSegments, type History } from './history.js';

/** applyOurs runs the history's WALs through WALIndexer (segments, odd chunk sizes) and PageApplier. */
async function applyOurs(dir: string, snapshot: Buffer, wals: { wal: Buffer; commits: number[] }[], flushEvery: boolean, seed = 1): Promise<Buffer> {
  const rand = rng(seed);
  const db = path.join(dir, `ours-${flushEvery ? 'each' : 'once'}.db`);
  fs.writeFileSync(db, snapshot);
  const applier = new PageApplier(db);
  wals.forEach((idx, i) => {
    const indexer = new WALIndexer(i);
    for (const [off, bytes] of splitSegments(idx, 4, rand)) {
      indexer.beginSegment(walSegmentName(i, off), off);
      for (let p = 0; p < bytes.length; ) {
        const n = 1 + Math.floor(rand() * 9000);
        indexer.push(bytes.subarray(p, p + n));
        p += n;
      }
      indexer.endSegment();
    }
    const walPath = path.join(dir, `wal-${i}-${flushEvery}`);
    fs.writeFileSync(walPath, idx.wal);
    applier.add({ ...indexer.finish(), path: walPath });
    if (flushEvery) applier.flush();
  });
  applier.flush();
  await applier.deletions();
  expect(fs.readdirSync(dir).filter((f) => f.startsWith('wal-'))).toEqual([]);
  return fs.readFileSync(db);
}

/** emptyDbPage1 returns page 1 of a fresh, empty WAL-mode database of `pageSize`. */
function emptyDbPage1(dir: string, pageSize: number): Buffer {
  const file = path.join(dir, 'empty.db');
  const db = new Database(file);
  db.pragma(`page_size = ${pageSize}`);
  db.pragma('journal_mode = wal');
  db.close();
  return fs.readFileSync(file).subarray(0, pageSize);
}

const fill = (pageSize: number, byte: number): Buffer => Buffer.alloc(pageSize, byte);

/**
 * randomFrames makes one index of random page writes and commits whose sizes shrink or grow
 * (growth bounded as SQLite's checkpoint requires: < 64 KiB past the file plus the WAL).
 */
function randomFrames(rand: () => number, ps: number, pages: number, page1: Buffer, k: number): { pgno: number; commit: number; page: Buffer }[] {
  const frames: { pgno: number; commit: number; page: Buffer }[] = [];
  const txns = 1 + Math.floor(rand() * 3);
  for (let t = 0; t < txns; t++) {
    const size = Math.max(1, Math.min(pages + 50, Math.floor(rand() * (pages + 40)) + 1));
    const n = 1 + Math.floor(rand() * 8);
    for (let i = 0; i < n; i++) {
      const pgno = 1 + Math.floor(rand() * (size + 5));
      frames.push({ pgno, commit: 0, page: pgno === 1 ? page1 : fill(ps, (k * 16 + i + t * 3) & 0xff) });
    }
    frames[frames.length - 1].commit = size;
    pages = size;
  }
  return frames;
}
const commits = (wal: Buffer) => ({ wal, commits: [wal.length] });

describe('PageApplier equals SQLite checkpoint replay', () => {
  it('hand-built WALs: growth, skipped frames above mxPage, truncation, regrowth reads zeros', async () => {
    const dir = tmpDir();
    const ps = 1024;
    const page1 = emptyDbPage1(dir, ps);
    const snapshot = Buffer.concat([page1, ...Array.from({ length: 9 }, (_, i) => fill(ps, 0xa0 + i))]);
    const frameBytes = ps + 24;
    const wals = [
      // the last frame of index 0 is never committed: SQLite and we both ignore it
      { wal: buildWAL(ps, [
        { pgno: 3, commit: 0, page: fill(ps, 0x03) },
        { pgno: 12, commit: 0, page: fill(ps, 0x0c) },
        { pgno: 1, commit: 12, page: page1 },
        { pgno: 5, commit: 12, page: fill(ps, 0x05) },
        { pgno: 3, commit: 0, page: fill(ps, 0x33) },
      ]), commits: [32 + 4 * frameBytes] },
      // index 1 shrinks the database to 4 pages: its frame of page 11 is skipped
      commits(buildWAL(ps, [
        { pgno: 4, commit: 0, page: fill(ps, 0x04) },
        { pgno: 11, commit: 4, page: fill(ps, 0x0b) },
      ], { bigEndian: true, salt: 7 })),
      // index 2 grows it to 9 pages writing only page 8: pages 5–7 and 9 read back as zeros
      commits(buildWAL(ps, [{ pgno: 8, commit: 9, page: fill(ps, 0x08) }], { salt: 9 })),
    ];
    const want = replayWithSQLite(dir, snapshot, wals.map((w) => w.wal));
    expect(want.length).toBe(9 * ps);
    expect(want.subarray(4 * ps, 7 * ps).every((b) => b === 0)).toBe(true);
    expect(want.subarray(8 * ps).every((b) => b === 0)).toBe(true);
    expect(want.subarray(2 * ps, 3 * ps).every((b) => b === 0x03)).toBe(true);
    expect((await applyOurs(dir, snapshot, wals, false)).equals(want)).toBe(true);
    expect((await applyOurs(dir, snapshot, wals, true)).equals(want)).toBe(true);
  });

  it.each([11, 12, 13, 14, 15, 16, 17, 18])('random hand-built WALs (shrink and regrow at random), seed %i', async (seed) => {
    const dir = tmpDir();
    const ps = 1024;
    const rand = rng(seed);
    const page1 = emptyDbPage1(dir, ps);
    let pages = 1 + Math.floor(rand() * 30);
    const snapshot = Buffer.concat([page1, ...Array.from({ length: pages - 1 }, (_, i) => fill(ps, 0x80 + i))]);
    const wals = Array.from({ length: 6 }, (_, k) => {
      const frames = randomFrames(rand, ps, pages, page1, k);
      pages = frames[frames.length - 1].commit;
      return commits(buildWAL(ps, frames, { salt: 100 + k, bigEndian: rand() < 0.3 }));
    });
    const want = replayWithSQLite(dir, snapshot, wals.map((w) => w.wal));
    expect((await applyOurs(dir, snapshot, wals, false, seed)).equals(want)).toBe(true);
    expect((await applyOurs(dir, snapshot, wals, true, seed)).equals(want)).toBe(true);
  });

  const cases: [number, number][] = [
    [1024, 1],
    [1024, 2],
    [4096, 3],
    [4096, 4],
    [65536, 5],
  ];
  it.each(cases)('random history, page size %i, seed %i', async (pageSize, seed) => {
    const dir = tmpDir();
    const h: History = captureHistory(dir, { pageSize, seed, indexes: pageSize === 65536 ? 4 : 8, steps: 5 });
    expect(h.indexes.length).toBeGreaterThan(2);
    const want = replayWithSQLite(dir, h.snapshot, h.indexes.map((i) => i.wal));
    expect((await applyOurs(dir, h.snapshot, h.indexes, false, seed)).equals(want)).toBe(true);
    expect((await applyOurs(dir, h.snapshot, h.indexes, true, seed)).equals(want)).toBe(true);
  });

  it('scripted history: VACUUM shrinks the file, later indexes grow it again', async () => {
    const dir = tmpDir();
    const script = [['big', 'insert', 'insert'], ['deleteMost', 'vacuum'], ['big', 'schema', 'insert'], ['delete', 'vacuum', 'insert']];
    const h = captureHistory(dir, { pageSize: 4096, seed: 42, indexes: script.length, steps: 0, script });
    const sizes = h.indexes.map((i) => i.wal.readUInt32BE(i.wal.length - 4096 - 24 + 4));
    expect(sizes[1]).toBeLessThan(sizes[0]);
    expect(sizes[2]).toBeGreaterThan(sizes[1]);
    const want = replayWithSQLite(dir, h.snapshot, h.indexes.map((i) => i.wal));
    expect((await applyOurs(dir, h.snapshot, h.indexes, false)).equals(want)).toBe(true);
    expect(want.equals(fs.readFileSync(h.dbPath))).toBe(true);
  });
});
