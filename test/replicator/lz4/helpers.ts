/** helpers: data, chunking, stream plumbing and the lz4 CLI for the LZ4 codec tests. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { insertRows, openWAL } from '../../helpers/sqlite.js';
import { tmpDir } from '../../helpers/tmp.js';

/** prng returns a deterministic xorshift32 generator of uint32 values. */
export function prng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/** randomBytes returns n deterministic pseudo-random (incompressible) bytes. */
export function randomBytes(n: number, seed = 1): Buffer {
  const rand = prng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = rand() & 0xff;
  return out;
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'user', 'order', 'shipped', 'pending', '2024-05-01T12:00:00Z'];

/** pageData returns n bytes of 4 KB SQLite-like pages: a header, text records with random ids, zeroed free space. */
export function pageData(n: number, seed = 7): Buffer {
  const rand = prng(seed);
  const out = Buffer.alloc(n);
  for (let p = 0; p < n; p += 4096) {
    out[p] = 13;
    const end = Math.min(n, p + 4096 * (0.4 + (rand() % 50) / 100)) - 80;
    for (let o = p + 12; o < end; out[o++] = 10) {
      o += out.write(`${rand() % 100000}|${rand().toString(16)}|`, o, 'latin1');
      for (let w = rand() % 6; w >= 0; w--) o += out.write(`${WORDS[rand() % WORDS.length]} `, o, 'latin1');
    }
  }
  return out;
}

/** sqliteFiles builds a real WAL-mode database and returns its main file and -wal bytes. */
export function sqliteFiles(): { db: Buffer; wal: Buffer } {
  const file = path.join(tmpDir('lifeboat-lz4-'), 'app.db');
  const db = openWAL(file);
  db.pragma('wal_autocheckpoint = 0');
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) SELECT printf('note %d: the quick brown fox', x) FROM c");
  insertRows(db, 300, 400);
  db.pragma('wal_checkpoint(PASSIVE)');
  insertRows(db, 200, 200);
  const out = { db: fs.readFileSync(file), wal: fs.readFileSync(`${file}-wal`) };
  db.close();
  return out;
}

/** chunked splits buf into pieces of `size` bytes, or of sizes drawn from a function. */
export function chunked(buf: Uint8Array, size: number | (() => number)): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    const n = Math.max(1, typeof size === 'number' ? size : size());
    out.push(Buffer.from(buf.subarray(i, i + n)));
    i += n;
  }
  return out;
}

/** randomSizes returns a generator of chunk sizes from 1 to max. */
export function randomSizes(max: number, seed = 3): () => number {
  const rand = prng(seed);
  return () => 1 + (rand() % max);
}

/** through writes chunks through a transform and collects everything it outputs. */
export async function through(transform: Transform, chunks: Uint8Array[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk);
      cb();
    },
  });
  await pipeline(Readable.from(chunks), transform, sink);
  return Buffer.concat(out);
}

/** lz4 runs the lz4 CLI with args, `input` on stdin; returns stdout. */
export function lz4(args: string[], input: Uint8Array): Buffer {
  return execFileSync('lz4', args, { input, maxBuffer: 1 << 30 });
}
