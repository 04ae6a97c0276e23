/**
 * history: real WAL histories for restore tests, captured from a better-sqlite3 database
 * with `wal_autocheckpoint=0` — a snapshot, then WAL indexes (the `-wal` file cut at its
 * last commit, split into segments at commit boundaries), each index ended by a RESTART or
 * TRUNCATE checkpoint or a close/reopen — and a reference replay with SQLite itself.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { encodeFrame } from '../../../src/replicator/lz4/index.js';
import type { ReplicaClient } from '../../../src/replicator/replica-client.js';
import {
  WAL_FRAME_HEADER_SIZE,
  WAL_HEADER_SIZE,
  encodeWALHeader,
  frameSize,
  parseWALHeader,
  putU32,
  scanFrames,
  u32,
  walChecksum,
} from '../../../src/replicator/wal.js';

/** CapturedIndex is one WAL index: its bytes up to the last commit and the commit boundaries in it. */
export interface CapturedIndex {
  wal: Buffer;
  /** commits are the byte offsets just after each commit frame, ascending (the last is wal.length). */
  commits: number[];
}

/** History is a snapshot and the WAL indexes that follow it. */
export interface History {
  pageSize: number;
  snapshot: Buffer;
  indexes: CapturedIndex[];
  /** dbPath is the live database the history was captured from (closed, fully checkpointed). */
  dbPath: string;
}

/** rng returns a deterministic generator of floats in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** openHistoryDb opens a WAL database with autocheckpoint off (page size applies to a new file). */
function openHistoryDb(file: string, pageSize: number): Database.Database {
  const db = new Database(file);
  db.pragma(`page_size = ${pageSize}`);
  db.pragma('journal_mode = wal');
  db.pragma('wal_autocheckpoint = 0');
  return db;
}

/** readCommittedWAL reads `-wal` up to its last valid commit; returns its commit boundaries. */
export function readCommittedWAL(walPath: string): CapturedIndex | undefined {
  if (!fs.existsSync(walPath)) return undefined;
  const buf = fs.readFileSync(walPath);
  const hdr = parseWALHeader(buf);
  if (!hdr) return undefined;
  const scan = scanFrames(hdr, buf.subarray(WAL_HEADER_SIZE), [hdr.checksum1, hdr.checksum2]);
  const end = WAL_HEADER_SIZE + scan.commitEnd;
  const commits: number[] = [];
  const fsz = frameSize(hdr.pageSize);
  for (let off = WAL_HEADER_SIZE; off < end; off += fsz) if (u32(buf, off + 4) !== 0) commits.push(off + fsz);
  if (commits.length === 0) return undefined;
  return { wal: Buffer.from(buf.subarray(0, end)), commits };
}

/** Step is one random operation on the history database. */
type Step = (db: Database.Database, rand: () => number) => void;

const blob = (rand: () => number, max: number): Buffer => crypto.randomBytes(1 + Math.floor(rand() * max));

/** STEPS are the operations a random history is made of: inserts, updates, deletes, VACUUM, schema changes. */
export const STEPS: Record<string, Step> = {
  insert: (db, rand) => {
    const ins = db.prepare('INSERT INTO t (v, b) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0, n = 1 + Math.floor(rand() * 40); i < n; i++) ins.run(`v${rand()}`, blob(rand, 3000));
    })();
  },
  big: (db, rand) => db.prepare('INSERT INTO t (v, b) VALUES (?, ?)').run('big', blob(rand, 200_000)),
  update: (db, rand) => db.prepare('UPDATE t SET b = ? WHERE id % 7 = ?').run(blob(rand, 2000), Math.floor(rand() * 7)),
  delete: (db, rand) => db.prepare('DELETE FROM t WHERE id % 3 = ?').run(Math.floor(rand() * 3)),
  deleteMost: (db) => db.prepare('DELETE FROM t WHERE id % 10 != 0').run(),
  vacuum: (db) => db.exec('VACUUM'),
  schema: (db, rand) => {
    const name = `x${Math.floor(rand() * 3)}`;
    db.exec(`DROP TABLE IF EXISTS ${name}; CREATE TABLE ${name} (k INTEGER PRIMARY KEY, w BLOB); CREATE INDEX ${name}_w ON ${name}(w)`);
    db.prepare(`INSERT INTO ${name} (w) VALUES (?)`).run(blob(rand, 5000));
  },
  passive: (db) => db.pragma('wal_checkpoint(PASSIVE)'),
};

/** HistoryOptions: page size, seed, number of WAL indexes and random steps per index. */
export interface HistoryOptions {
  pageSize: number;
  seed: number;
  indexes: number;
  steps: number;
  /** script, if given, replaces the random steps: one list of step names per index. */
  script?: string[][];
}

/**
 * captureHistory builds a database, snapshots it, and records `indexes` WAL indexes of
 * random steps. As the replicator does, a second connection holds a read transaction
 * during each index (after its first write), so a PASSIVE checkpoint never lets SQLite
 * restart the WAL under us; it is released before the checkpoint that ends the index.
 */
export function captureHistory(dir: string, opts: HistoryOptions): History {
  const rand = rng(opts.seed);
  const file = path.join(dir, 'live.db');
  let db = openHistoryDb(file, opts.pageSize);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)');
  STEPS.insert(db, rand);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const snapshot = fs.readFileSync(file);
  const names = Object.keys(STEPS);
  const indexes: CapturedIndex[] = [];
  for (let i = 0; i < opts.indexes; i++) {
    const script = opts.script?.[i] ?? Array.from({ length: opts.steps }, () => names[Math.floor(rand() * names.length)]);
    STEPS.insert(db, rand);
    const reader = new Database(file, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM t').get();
    for (const step of script) STEPS[step](db, rand);
    const idx = readCommittedWAL(`${file}-wal`);
    if (idx) indexes.push(idx);
    reader.close();
    db = endIndex(db, file, opts.pageSize, rand);
  }
  db.close();
  return { pageSize: opts.pageSize, snapshot, indexes, dbPath: file };
}

/** endIndex starts the next WAL index: RESTART or TRUNCATE checkpoint, or close and reopen. */
function endIndex(db: Database.Database, file: string, pageSize: number, rand: () => number): Database.Database {
  const r = rand();
  if (r < 0.4) db.pragma('wal_checkpoint(RESTART)');
  else if (r < 0.8) db.pragma('wal_checkpoint(TRUNCATE)');
  else {
    db.close();
    return openHistoryDb(file, pageSize);
  }
  return db;
}

/** splitSegments cuts an index at commit boundaries into up to `n` segments: [offset, bytes] pairs. */
export function splitSegments(idx: CapturedIndex, n: number, rand: () => number): [number, Buffer][] {
  const cuts = new Set<number>([idx.wal.length]);
  for (let i = 1; i < n; i++) cuts.add(idx.commits[Math.floor(rand() * idx.commits.length)]);
  const ends = [...cuts].sort((a, b) => a - b);
  const out: [number, Buffer][] = [];
  let start = 0;
  for (const end of ends) {
    out.push([start, idx.wal.subarray(start, end)]);
    start = end;
  }
  return out;
}

/**
 * replayWithSQLite is the reference result: the snapshot, then for each index its WAL put
 * beside the database and `PRAGMA wal_checkpoint(TRUNCATE)` run by SQLite — what the
 * reference's restore does. Returns the database file's bytes.
 */
export function replayWithSQLite(dir: string, snapshot: Buffer, wals: Buffer[]): Buffer {
  const file = path.join(dir, `replay-${crypto.randomBytes(4).toString('hex')}.db`);
  fs.writeFileSync(file, snapshot);
  for (const wal of wals) {
    fs.writeFileSync(`${file}-wal`, wal);
    fs.rmSync(`${file}-shm`, { force: true });
    const db = new Database(file);
    const [row] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    db.close();
    if (row.busy !== 0) throw new Error('replay: checkpoint busy');
  }
  const out = fs.readFileSync(file);
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  return out;
}

/** SyntheticFrame is one frame of a hand-built WAL: page `pgno` with `page` bytes; `commit` > 0 commits. */
export interface SyntheticFrame {
  pgno: number;
  commit: number;
  page: Uint8Array;
}

/** buildWAL encodes a valid WAL (header, salts, chained checksums) from frames, in either checksum byte order. */
export function buildWAL(pageSize: number, frames: SyntheticFrame[], opts: { bigEndian?: boolean; salt?: number } = {}): Buffer {
  const bigEndian = opts.bigEndian ?? false;
  const salt1 = opts.salt ?? 0x1234;
  const salt2 = 0x5678;
  const hdr = encodeWALHeader({ bigEndian, version: 3007000, pageSize, checkpointSeq: 0, salt1, salt2 });
  const out = Buffer.alloc(WAL_HEADER_SIZE + frames.length * frameSize(pageSize));
  out.set(hdr, 0);
  let sum: [number, number] = [u32(hdr, 24), u32(hdr, 28)];
  frames.forEach((f, i) => {
    const off = WAL_HEADER_SIZE + i * frameSize(pageSize);
    putU32(out, off, f.pgno);
    putU32(out, off + 4, f.commit);
    putU32(out, off + 8, salt1);
    putU32(out, off + 12, salt2);
    out.set(f.page, off + WAL_FRAME_HEADER_SIZE);
    sum = walChecksum(bigEndian, out, off, 8, sum);
    sum = walChecksum(bigEndian, out, off + WAL_FRAME_HEADER_SIZE, pageSize, sum);
    putU32(out, off + 16, sum[0]);
    putU32(out, off + 20, sum[1]);
  });
  return out;
}

/** writeReplica stores a history in a replica as one generation: the snapshot at index 0, each index in up to `segments` segments. */
export async function writeReplica(client: ReplicaClient, generation: string, h: History, segments: number, seed = 1): Promise<void> {
  const rand = rng(seed);
  await client.writeSnapshot(generation, 0, encodeFrame(h.snapshot));
  for (const [index, idx] of h.indexes.entries()) {
    for (const [offset, bytes] of splitSegments(idx, segments, rand)) {
      await client.writeWALSegment({ generation, index, offset }, encodeFrame(bytes));
    }
  }
}
