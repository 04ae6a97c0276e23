/**
 * restore: the library end to end on real file replicas — byte-equal to SQLite's own
 * replay on random histories, the safety rules (existing output, stale companions,
 * nothing left behind), no-backup versus unreadable backup, faults naming the piece,
 * abort, and -timestamp on a replica written across several seconds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ReplicaError } from '../../../src/errors.js';
import { Logger } from '../../../src/log.js';
import { FileReplicaClient } from '../../../src/replicator/clients/file.js';
import { walSegmentKey } from '../../../src/replicator/layout.js';
import type { Pos } from '../../../src/replicator/pos.js';
import type { ReadBody } from '../../../src/replicator/replica-client.js';
import { decodeFrame, encodeFrame } from '../../../src/replicator/lz4/index.js';
import { CorruptError, NoBackupError, restore, type RestoreOptions } from '../../../src/replicator/restore/index.js';
import { integrityCheck } from '../../helpers/sqlite.js';
import { tmpDir } from '../../helpers/tmp.js';
import { captureHistory, replayWithSQLite, writeReplica, type History } from './history.js';

const GEN = 'a1b2c3d4e5f60718';

/** setup captures a history, stores it in a file replica and returns paths for a restore. */
async function setup(opts: { pageSize?: number; seed?: number; indexes?: number; segments?: number } = {}) {
  const dir = tmpDir();
  const h = captureHistory(dir, { pageSize: opts.pageSize ?? 4096, seed: opts.seed ?? 7, indexes: opts.indexes ?? 5, steps: 4 });
  const root = path.join(dir, 'replica');
  const client = new FileReplicaClient(root);
  await writeReplica(client, GEN, h, opts.segments ?? 4, opts.seed ?? 7);
  const outDir = path.join(dir, 'out');
  fs.mkdirSync(outDir);
  const out = path.join(outDir, 'db.sqlite');
  const run = (o: Partial<RestoreOptions> = {}) => restore({ replicas: [{ name: 'file', client }], outputPath: out, ...o });
  return { dir, h, root, client, outDir, out, run };
}

const walDir = (root: string) => path.join(root, 'generations', GEN, 'wal');
const expected = (dir: string, h: History, upTo = h.indexes.length) => replayWithSQLite(dir, h.snapshot, h.indexes.slice(0, upTo).map((i) => i.wal));

describe('restore equals SQLite replay', () => {
  it.each([
    [1024, 21, 1, undefined],
    [4096, 22, 8, undefined],
    [4096, 23, 3, 1],
    [65536, 24, 8, undefined],
  ])('page size %i, seed %i, parallelism %i, queue budget %s', async (pageSize, seed, parallelism, queueBudget) => {
    const s = await setup({ pageSize, seed, indexes: pageSize === 65536 ? 3 : 6 });
    const res = await s.run({ parallelism, queueBudget });
    expect(res.status).toBe('restored');
    expect(fs.readFileSync(s.out).equals(expected(s.dir, s.h))).toBe(true);
    expect(fs.readdirSync(s.outDir)).toEqual(['db.sqlite']);
    if (res.status === 'restored') expect(res.stats.indexes).toBe(s.h.indexes.length);
  });

  it('-index stops at that index (inclusive)', async () => {
    const s = await setup();
    const res = await s.run({ index: 2 });
    expect(res.status === 'restored' && res.targetIndex).toBe(2);
    expect(fs.readFileSync(s.out).equals(expected(s.dir, s.h, 3))).toBe(true);
  });
});

describe('restore safety', () => {
  it('refuses an existing output; -if-db-not-exists leaves it untouched', async () => {
    const s = await setup({ indexes: 1 });
    fs.writeFileSync(s.out, 'precious');
    await expect(s.run()).rejects.toThrow(`output ${s.out} already exists`);
    expect(await s.run({ ifDbNotExists: true })).toMatchObject({ status: 'output-exists' });
    expect(fs.readFileSync(s.out, 'utf8')).toBe('precious');
    expect(fs.readdirSync(s.outDir)).toEqual(['db.sqlite']);
  });

  it('no backup: empty replica and unknown generation are NoBackupError, or a no-backup result', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'db');
    const empty = { replicas: [{ name: 'file', client: new FileReplicaClient(path.join(dir, 'none')) }], outputPath: out };
    await expect(restore(empty)).rejects.toThrow(NoBackupError);
    await expect(restore(empty)).rejects.toThrow(`no generations found in ${dir}/none (no such directory)`);
    expect(await restore({ ...empty, ifReplicaExists: true })).toMatchObject({ status: 'no-backup' });
    const s = await setup({ indexes: 1 });
    await expect(s.run({ generation: 'ffffffffffffffff' })).rejects.toThrow('generation ffffffffffffffff not found');
    expect(fs.readdirSync(dir).filter((f) => f !== 'none')).toEqual([]);
    expect(fs.readdirSync(s.outDir)).toEqual([]);
  });

  it('moves stale -wal, -shm and meta directory beside the missing output aside', async () => {
    const s = await setup({ indexes: 2 });
    for (const suffix of ['-wal', '-shm']) fs.writeFileSync(s.out + suffix, 'stale');
    fs.mkdirSync(path.join(s.outDir, '.db.sqlite-litestream'));
    await s.run();
    expect(fs.readFileSync(s.out).equals(expected(s.dir, s.h))).toBe(true);
    const names = fs.readdirSync(s.outDir).sort();
    expect(names).toHaveLength(4);
    expect(names.filter((n) => /^(\.db\.sqlite-litestream|db\.sqlite-wal|db\.sqlite-shm)\.stale-\d{8}T\d{6}Z$/.test(n))).toHaveLength(3);
  });

  it('an abort mid-download removes everything it built', async () => {
    const s = await setup({ indexes: 6 });
    const ac = new AbortController();
    const p = s.run({ signal: ac.signal, parallelism: 1, onProgress: (x) => x.segmentsDone >= 2 && ac.abort(new Error('stop')) });
    await expect(p).rejects.toThrow();
    expect(fs.readdirSync(s.outDir)).toEqual([]);
  });
});

describe('restore faults name the piece and leave nothing behind', () => {
  /** segmentsOf returns the names of one index's segments (prefix `<index>_`), sorted. */
  const segmentsOf = (root: string, index: string) => fs.readdirSync(walDir(root)).filter((n) => n.startsWith(index)).sort();

  it('a read that fails after finding the segment is started over with a warning; one that keeps failing names the piece', async () => {
    for (const failures of [1, 99]) {
      const s = await setup({ indexes: 3, segments: 4 });
      const name = segmentsOf(s.root, '00000001_')[1];
      const key = `generations/${GEN}/wal/${name}`;
      /** FailingReads is the real file client whose reads of `key` fail mid-read `failures` times (an EIO on a network mount). */
      class FailingReads extends FileReplicaClient {
        left = failures;
        override async readWALSegment(pos: Pos, signal?: AbortSignal): Promise<ReadBody> {
          if (walSegmentKey(pos.generation, pos.index, pos.offset) === key && this.left-- > 0) {
            throw new ReplicaError('read wal', key, new Error('EIO: i/o error, read'), { midRead: true });
          }
          return super.readWALSegment(pos, signal);
        }
      }
      const lines: string[] = [];
      const logger = new Logger({ level: 'info', timestamps: false, write: (l) => lines.push(l) });
      const run = restore({ replicas: [{ name: 'file', client: new FailingReads(s.root) }], outputPath: s.out, logger });
      const warned = (n: number) => lines.filter((l) => l.includes('download broke off') && l.includes(`${GEN}/${name}`) && l.includes(`attempt=${n}`));
      if (failures === 1) {
        expect((await run).status).toBe('restored');
        expect(fs.readFileSync(s.out).equals(expected(s.dir, s.h))).toBe(true);
        expect(warned(1)).toHaveLength(1);
        expect(warned(2)).toHaveLength(0);
      } else {
        await expect(run).rejects.toThrow(`download wal segment ${GEN}/${name}: read wal ${key}: EIO: i/o error, read`);
        expect([1, 2, 3].map((n) => warned(n).length)).toEqual([1, 1, 1]);
        expect(fs.readdirSync(s.outDir)).toEqual([]);
      }
    }
  });

  it('a deleted middle segment is a gap', async () => {
    const s = await setup({ indexes: 3, segments: 6 });
    const segs = segmentsOf(s.root, '00000001_');
    expect(segs.length).toBeGreaterThanOrEqual(3);
    fs.rmSync(path.join(walDir(s.root), segs[1]));
    await expect(s.run()).rejects.toThrow(`wal index 00000001: gap before segment ${GEN}/${segs[2]}`);
    expect(fs.readdirSync(s.outDir)).toEqual([]);
  });

  it('a deleted initial segment is named', async () => {
    const s = await setup({ indexes: 4, segments: 6 });
    const index = ['00000001', '00000002', '00000003'].find((i) => segmentsOf(s.root, `${i}_`).length >= 2)!;
    const segs = segmentsOf(s.root, `${index}_`);
    fs.rmSync(path.join(walDir(s.root), segs[0]));
    await expect(s.run()).rejects.toThrow(`wal index ${index}: missing initial segment ${index}_00000000.wal.lz4 (first stored is ${segs[1]})`);
    expect(fs.readdirSync(s.outDir)).toEqual([]);
  });

  it('a truncated .lz4 before the last segment is bad LZ4', async () => {
    const s = await setup({ indexes: 3, segments: 3 });
    const name = segmentsOf(s.root, '00000001_').at(-1)!;
    const file = path.join(walDir(s.root), name);
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
    const err = await s.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptError);
    expect(String(err)).toContain(`wal segment ${GEN}/${name}: bad lz4`);
    expect(fs.readdirSync(s.outDir)).toEqual([]);
  });

  it('a torn last segment (empty, or truncated .lz4) is skipped, named, and the restore stops at the last good segment', async () => {
    for (const how of ['empty', 'truncated'] as const) {
      const s = await setup({ indexes: 3, segments: 3 });
      const last = segmentsOf(s.root, '00000002_');
      const file = path.join(walDir(s.root), last.at(-1)!);
      fs.truncateSync(file, how === 'empty' ? 0 : Math.floor(fs.statSync(file).size / 2));
      const lines: string[] = [];
      const res = await s.run({ logger: new Logger({ level: 'info', timestamps: false, write: (l) => lines.push(l) }) });
      expect(res.status).toBe('restored');
      if (res.status !== 'restored') continue;
      expect(res.skipped.map((k) => k.segment)).toEqual([`generations/${GEN}/wal/${last.at(-1)!}`]);
      expect(lines.filter((l) => l.includes('skipped'))).toHaveLength(1);
      expect(lines.join('\n')).toContain(`${GEN}/wal/${last.at(-1)!}`);
      expect(integrityCheck(s.out)).toBe('ok');
    }
  });

  it('a flipped byte in a page is a bad WAL checksum', async () => {
    const s = await setup({ indexes: 3, segments: 3 });
    const name = segmentsOf(s.root, '00000001_').at(-1)!;
    const file = path.join(walDir(s.root), name);
    const raw = decodeFrame(fs.readFileSync(file));
    raw[24 + 100] ^= 0x40;
    fs.writeFileSync(file, encodeFrame(raw));
    const frameAt = name.slice(9, 17) === '00000000' ? '00000020' : name.slice(9, 17);
    await expect(s.run()).rejects.toThrow(`wal segment ${GEN}/${name}: frame at offset ${frameAt}: bad wal checksum`);
    expect(fs.readdirSync(s.outDir)).toEqual([]);
  });

  it('a snapshot whose LZ4 content checksum does not match is bad LZ4 (nothing else covers its bytes)', async () => {
    const s = await setup({ indexes: 2 });
    const dir = path.join(s.root, 'generations', GEN, 'snapshots');
    const [name] = fs.readdirSync(dir);
    const stored = fs.readFileSync(path.join(dir, name));
    stored[stored.length - 1] ^= 0x01;
    fs.writeFileSync(path.join(dir, name), stored);
    const err = await s.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptError);
    expect(String(err)).toContain(`snapshot ${GEN}/${name}: bad lz4: lz4 content checksum mismatch`);
    expect(fs.readdirSync(s.outDir)).toEqual([]);
  });

  it('a Litestream v0.3.4 replica is refused with a clear message', async () => {
    const s = await setup({ indexes: 1 });
    fs.writeFileSync(path.join(walDir(s.root), '00000000.wal.lz4'), encodeFrame(Buffer.alloc(32)));
    await expect(s.run()).rejects.toThrow(/v0\.3\.4/);
    expect(fs.readdirSync(s.outDir)).toEqual([]);
  });
});

describe('restore -timestamp', () => {
  it('restores the state as of each moment of a replica written across several seconds', async () => {
    const dir = tmpDir();
    const h = captureHistory(dir, { pageSize: 4096, seed: 5, indexes: 3, steps: 3 });
    const client = new FileReplicaClient(path.join(dir, 'replica'));
    const marks: number[] = [];
    for (let k = 0; k < 3; k++) {
      const one: History = { ...h, indexes: [h.indexes[k]] };
      if (k === 0) await writeReplica(client, GEN, one, 2);
      else await client.writeWALSegment({ generation: GEN, index: k, offset: 0 }, encodeFrame(h.indexes[k].wal));
      marks.push(Math.ceil(Date.now() / 1000) * 1000);
      await sleep(1100);
    }
    // a time after the newest file is outside the generation (as in the reference): use the last file's own time
    const last = fs.statSync(path.join(dir, 'replica', 'generations', GEN, 'wal', '00000002_00000000.wal.lz4'), { bigint: true }).mtimeNs;
    marks[2] = Number(last / 1_000_000n);
    await expect(restore({ replicas: [{ name: 'file', client }], outputPath: path.join(dir, 'y'), timestamp: new Date(marks[2] + 1000) })).rejects.toThrow(/no generation covers .* spans/);
    for (let k = 0; k < 3; k++) {
      const out = path.join(dir, `at-${k}.db`);
      await restore({ replicas: [{ name: 'file', client }], outputPath: out, timestamp: new Date(marks[k]) });
      expect(fs.readFileSync(out).equals(expected(dir, h, k + 1))).toBe(true);
    }
    await expect(restore({ replicas: [{ name: 'file', client }], outputPath: path.join(dir, 'x'), timestamp: new Date(marks[0] - 60_000) })).rejects.toThrow(NoBackupError);
  });
});
