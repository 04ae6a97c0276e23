/**
 * history: the databases bench/vs-reference.mjs replicates and what it checks in replicas
 * and restores. A Writer fills t(id INTEGER PRIMARY KEY, v BLOB) from a seeded stream (the
 * same seed writes the same rows), each row 500 random bytes and 500 bytes of text.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldLoop, setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { createFrameDecoder } from '../../dist/replicator/lz4/index.js';

const PAGE = 4096;
const FRAME = PAGE + 24;
const CHECKPOINT_PAGES = 1000;
const TEXT = Buffer.from('lifeboat side by side with litestream: half of each row is text. '.repeat(8)).subarray(0, 500);

/** seeded returns a pseudo-random byte source: AES-128-CTR keystream keyed by `seed`. */
export function seeded(seed) {
  const key = crypto.createHash('sha256').update(String(seed)).digest();
  const cipher = crypto.createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const bytes = (n) => cipher.update(Buffer.alloc(n));
  return { bytes, below: (n) => bytes(4).readUInt32LE(0) % n };
}

/**
 * WALWatch reads the WAL-index header and checkpoint info in a database's -shm file:
 * mxFrame (offset 16), the salts (32, changed at each WAL restart) and nBackfill (96).
 * It counts the WAL frames written since it was made, across restarts (approximate when
 * a restart comes from another connection).
 */
class WALWatch {
  constructor(db) {
    this.fd = fs.openSync(`${db}-shm`, 'r');
    this.buf = Buffer.alloc(100);
    this.before = 0;
    this.read();
    this.start = this.frames;
  }

  read() {
    fs.readSync(this.fd, this.buf, 0, 100, 0);
    const salt = this.buf.toString('hex', 32, 40);
    if (this.salt !== undefined && salt !== this.salt) this.before += this.frames;
    this.salt = salt;
    this.frames = this.buf.readUInt32LE(16);
    this.backfilled = this.buf.readUInt32LE(96);
  }

  /** bytes is the size of the frames written since the watch was made. */
  bytes() {
    this.read();
    return (this.before + this.frames - this.start) * FRAME;
  }

  /** uncheckpointed tells whether the WAL holds `pages` frames or more, not all copied into the database. */
  uncheckpointed(pages) {
    this.read();
    return this.frames >= pages && this.backfilled < this.frames;
  }

  close() {
    fs.closeSync(this.fd);
  }
}

/** untilCheckpointed waits while the WAL holds 1000 pages or more not all checkpointed, up to 10 s; returns the ms it waited. */
async function untilCheckpointed(wal) {
  const t = performance.now();
  while (wal.uncheckpointed(CHECKPOINT_PAGES) && performance.now() - t < 10_000) await sleep(10);
  return performance.now() - t;
}

/** Writer is the app of the bench: one connection to a WAL-mode database of 4 KiB pages. */
export class Writer {
  constructor(file, seed) {
    this.file = file;
    this.rand = seeded(seed);
    this.db = new Database(file);
    this.db.pragma('page_size = 4096');
    this.db.pragma('journal_mode = wal');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB)');
    this.ins = this.db.prepare('INSERT INTO t (v) VALUES (?)');
    this.upd = this.db.prepare('UPDATE t SET v = ? WHERE id = ?');
    this.maxId = this.db.prepare('SELECT coalesce(max(id), 0) AS n FROM t').get().n;
  }

  row() {
    return Buffer.concat([this.rand.bytes(500), TEXT]);
  }

  insert(v = this.row()) {
    this.ins.run(v);
    this.maxId++;
  }

  /** dbBytes is the database's size in pages × 4 KiB. */
  dbBytes() {
    return this.db.pragma('page_count', { simple: true }) * PAGE;
  }

  /** fillTo inserts rows, 500 per transaction, until the database holds `bytes`; then a TRUNCATE checkpoint. */
  fillTo(bytes) {
    const txn = this.db.transaction(() => {
      for (let i = 0; i < 500; i++) this.insert();
    });
    while (this.dbBytes() < bytes) txn();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /**
   * appendWAL commits transactions of 4 new rows and 4 rows rewritten (ids drawn from the
   * stream) until `bytes` of WAL frames were written, at `mbPerSecond` MB of WAL a second
   * (sleeping while ahead; yielding to the event loop every 20 transactions regardless).
   * Once the WAL holds SQLite's 1000-page checkpoint size, it pauses until the WAL is all
   * checkpointed (up to 10 s, not counted in the rate): beside ours the app's own
   * checkpoint does that at once; the reference checkpoints at its sync, once a second, and
   * under a steady writer its checkpoints seldom got the WAL restarted (all of a 25 MB
   * size's WAL landed in one index). Both tools' replicas thus get indexes of ~1000 pages.
   */
  async appendWAL(bytes, mbPerSecond) {
    const wal = new WALWatch(this.file);
    const txn = this.db.transaction(() => {
      for (let i = 0; i < 4; i++) this.insert();
      for (let i = 0; i < 4; i++) this.upd.run(this.row(), 1 + this.rand.below(this.maxId));
    });
    let t0 = performance.now();
    try {
      for (let n = 1, written = 0; written < bytes; n++, written = wal.bytes()) {
        t0 += await untilCheckpointed(wal);
        const ahead = (written / (mbPerSecond * 1e6)) * 1000 - (performance.now() - t0);
        if (ahead > 1) await sleep(ahead);
        else if (n % 20 === 0) await yieldLoop();
        txn();
      }
    } finally {
      wal.close();
    }
  }

  close() {
    this.db.close();
  }
}

/** filesUnder lists the files below `dir` whose names match `re`, as paths relative to `dir`. */
export function filesUnder(dir, re) {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && re.test(e.name))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/** hasSnapshot tells whether the file replica `dir` holds a snapshot yet. */
export function hasSnapshot(dir) {
  return fs.existsSync(path.join(dir, 'generations')) && filesUnder(dir, /\.snapshot\.lz4$/).length > 0;
}

async function decodedSize(file) {
  let n = 0;
  for await (const chunk of fs.createReadStream(file).pipe(createFrameDecoder())) n += chunk.length;
  return n;
}

/**
 * replicaStats describes the file replica `dir`: its generations, and for the newest (the
 * one whose files were written last: what a restore picks) the raw and stored MB of its
 * snapshots and WAL segments, its WAL indexes and segments.
 */
export async function replicaStats(dir) {
  const root = path.join(dir, 'generations');
  const gens = fs.readdirSync(root).map((g) => {
    const files = filesUnder(path.join(root, g), /\.lz4$/).map((f) => path.join(root, g, f));
    return { files, newest: Math.max(...files.map((f) => fs.statSync(f).mtimeMs)) };
  });
  const { files } = gens.sort((a, b) => b.newest - a.newest)[0];
  const out = { generations: gens.length, snapshot_mb: 0, wal_mb: 0, stored_mb: 0, wal_indexes: 0, wal_segments: 0 };
  const indexes = new Set();
  for (const f of files) {
    const raw = (await decodedSize(f)) / 1e6;
    out.stored_mb += fs.statSync(f).size / 1e6;
    if (f.endsWith('.snapshot.lz4')) out.snapshot_mb += raw;
    else {
      out.wal_mb += raw;
      out.wal_segments++;
      indexes.add(path.basename(f).slice(0, 8));
    }
  }
  out.wal_indexes = indexes.size;
  return out;
}

/** fileSha256 hashes a whole file. */
export async function fileSha256(file) {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

/** rowsDigest is sha256 over every row of t, in id order (`id`, then v's bytes). */
export function rowsDigest(file) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const hash = crypto.createHash('sha256');
    let rows = 0;
    for (const r of db.prepare('SELECT id, v FROM t ORDER BY id').iterate()) {
      hash.update(`${r.id}|`).update(r.v);
      rows++;
    }
    return { rows, digest: hash.digest('hex') };
  } finally {
    db.close();
  }
}

/** integrityCheck returns `PRAGMA integrity_check`'s answer ('ok' when sound). */
export function integrityCheck(file) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('integrity_check').map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}
