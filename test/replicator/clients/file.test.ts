import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { ReplicaError } from '../../../src/errors.js';
import { FileReplicaClient } from '../../../src/replicator/clients/file.js';
import { createReplicaClient } from '../../../src/replicator/clients/index.js';
import { newGeneration } from '../../../src/replicator/pos.js';
import { unpackFixture } from '../../helpers/fixtures.js';
import { tmpDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';
import { collect, readAll, replicaClientContract } from '../replica-client.contract.js';

replicaClientContract('file', async () => {
  const root = path.join(tmpDir('lifeboat-file-replica-'), 'replica');
  return { client: new FileReplicaClient(root), cleanup: async () => fs.rmSync(root, { recursive: true, force: true }) };
});

/** walk lists every file under `dir`, relative to it. */
function walk(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** openFiles lists the files this process holds open (/proc/self/fd). */
function openFiles(): string[] {
  return fs.readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [fs.readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return [];
    }
  });
}

describe('FileReplicaClient', () => {
  test('an object up to 1 MB is handed over whole, its file closed; a larger one streams in reads of 1 MB', async () => {
    const root = tmpDir();
    const c = new FileReplicaClient(root);
    const gen = 'a1b2c3d4e5f60718';
    const small = randomBytes(1 << 20);
    const big = randomBytes((1 << 20) + 1);
    await c.writeWALSegment({ generation: gen, index: 0, offset: 0 }, small);
    await c.writeWALSegment({ generation: gen, index: 0, offset: 1 }, big);
    const whole = await c.readWALSegment({ generation: gen, index: 0, offset: 0 });
    expect(whole).not.toBeInstanceOf(Readable);
    expect(Buffer.from(whole as Uint8Array).equals(small)).toBe(true);
    expect(openFiles().filter((f) => f.startsWith(root))).toEqual([]);
    const stream = await c.readWALSegment({ generation: gen, index: 0, offset: 1 });
    expect(stream).toBeInstanceOf(Readable);
    const chunks: Buffer[] = [];
    for await (const chunk of stream as Readable) chunks.push(chunk as Buffer);
    expect(chunks.map((b) => b.length)).toEqual([1 << 20, 1]);
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
  });

  test('a read that fails after finding the object (here a folder at its name) is a ReplicaError marked midRead, its file closed', async () => {
    const root = tmpDir();
    const c = new FileReplicaClient(root);
    const gen = 'a1b2c3d4e5f60718';
    await c.writeWALSegment({ generation: gen, index: 0, offset: 0 }, Buffer.from('wal'));
    const key = `generations/${gen}/wal/00000000_00001000.wal.lz4`;
    fs.mkdirSync(path.join(root, key));
    const before = openFiles().length;
    const err = (await c.readWALSegment({ generation: gen, index: 0, offset: 0x1000 }).catch((e: unknown) => e)) as ReplicaError;
    expect(err).toBeInstanceOf(ReplicaError);
    expect(err.message).toMatch(new RegExp(`^read wal ${key}: EISDIR`));
    expect({ midRead: err.midRead, notFound: err.notFound }).toEqual({ midRead: true, notFound: false });
    expect(openFiles().length).toBe(before);
    const missing = (await c.readWALSegment({ generation: gen, index: 0, offset: 0x2000 }).catch((e: unknown) => e)) as ReplicaError;
    expect({ midRead: missing.midRead, notFound: missing.notFound }).toEqual({ midRead: false, notFound: true });
  });

  test('a read the reader stops before its first chunk closes its file (not left to the garbage collector)', async () => {
    const root = tmpDir();
    const c = new FileReplicaClient(root);
    const gen = 'a1b2c3d4e5f60718';
    await c.writeSnapshot(gen, 0, randomBytes(2 << 20));
    const file = path.join(root, `generations/${gen}/snapshots/00000000.snapshot.lz4`);
    const stream = (await c.readSnapshot(gen, 0)) as Readable;
    expect(openFiles()).toContain(file);
    stream.destroy();
    await waitUntil(() => !openFiles().includes(file), { what: 'the snapshot file to be closed', timeoutMs: 10_000 });
  });

  test('a wal folder swapped for a link right after a listing: the next write and delete refuse it, nothing lands outside', async () => {
    const root = tmpDir();
    const outside = tmpDir();
    const c = new FileReplicaClient(root);
    const gen = 'a1b2c3d4e5f60718';
    await c.writeWALSegment({ generation: gen, index: 0, offset: 0 }, Readable.from([Buffer.from('one')]));
    expect(await collect(c.walSegments(gen))).toHaveLength(1); // the listing's look at wal/ is now shared
    const wal = path.join(root, `generations/${gen}/wal`);
    fs.rmSync(wal, { recursive: true });
    fs.symlinkSync(outside, wal);
    fs.writeFileSync(path.join(outside, '00000000_00000000.wal.lz4'), 'theirs');
    // Within the second the folder's look is shared by reads: writes and deletes look again.
    await expect(c.writeWALSegment({ generation: gen, index: 0, offset: 3 }, Readable.from([Buffer.from('two')]))).rejects.toThrow(/is a symbolic link/);
    await expect(c.deleteWALSegments([{ generation: gen, index: 0, offset: 0 }])).rejects.toThrow(/is a symbolic link/);
    expect(fs.readdirSync(outside)).toEqual(['00000000_00000000.wal.lz4']);
  });

  test('stores files in the Litestream layout and leaves no temp files', async () => {
    const root = tmpDir();
    const c = new FileReplicaClient(root);
    const gen = 'a1b2c3d4e5f60718';
    await c.writeSnapshot(gen, 0x1f, Buffer.from('snap'));
    await c.writeWALSegment({ generation: gen, index: 0x1f, offset: 0x4080 }, Readable.from([Buffer.from('wal')]));
    expect(walk(root)).toEqual([
      `generations/${gen}/snapshots/0000001f.snapshot.lz4`,
      `generations/${gen}/wal/0000001f_00004080.wal.lz4`,
    ]);
    const st = fs.statSync(path.join(root, `generations/${gen}/snapshots/0000001f.snapshot.lz4`), { bigint: true });
    expect((await collect(c.snapshots(gen)))[0].createdAt.getTime()).toBe(Number(st.mtimeNs / 1_000_000n));
  });

  test('a file written in the last half millisecond of a second lists in that second (cut, as Litestream), not the next (rounded)', async (ctx) => {
    const root = tmpDir();
    const c = new FileReplicaClient(root);
    const gen = 'a1b2c3d4e5f60718';
    await c.writeSnapshot(gen, 0, Buffer.from('snap'));
    await c.writeWALSegment({ generation: gen, index: 0, offset: 0 }, Readable.from([Buffer.from('wal')]));
    const late = 1_700_000_045.9996; // 45.9996 s past the minute: Node's own mtime rounds it to 46.000
    for (const f of walk(root)) fs.utimesSync(path.join(root, f), late, late);
    const kept = fs.statSync(path.join(root, walk(root)[0]), { bigint: true }).mtimeNs % 1_000_000_000n;
    if (kept < 999_000_000n) ctx.skip(`this filesystem keeps no sub-millisecond mtimes (kept ${kept} ns past the second)`);
    const [snap] = await collect(c.snapshots(gen));
    const [seg] = await collect(c.walSegments(gen));
    expect(fs.statSync(path.join(root, `generations/${gen}/snapshots/00000000.snapshot.lz4`)).mtime.toISOString()).toBe('2023-11-14T22:14:06.000Z');
    expect(snap.createdAt.toISOString()).toBe('2023-11-14T22:14:05.999Z');
    expect(seg.createdAt.toISOString()).toBe('2023-11-14T22:14:05.999Z');
  });

  test('listings ignore .tmp files, foreign names and stray entries', async () => {
    const root = tmpDir();
    const gen = newGeneration();
    const snaps = path.join(root, 'generations', gen, 'snapshots');
    const wal = path.join(root, 'generations', gen, 'wal');
    fs.mkdirSync(snaps, { recursive: true });
    fs.mkdirSync(wal, { recursive: true });
    fs.mkdirSync(path.join(root, 'generations', 'not-a-generation'));
    fs.writeFileSync(path.join(root, 'generations', 'abcdefabcdefabcd'), 'a file, not a directory');
    for (const n of ['00000001.snapshot.lz4.tmp', '1.snapshot.lz4', 'README', '00000002.snapshot.lz4']) fs.writeFileSync(path.join(snaps, n), 'x');
    for (const n of ['00000000_00000000.wal.lz4.tmp', '00000000_00000020.wal.lz4', 'notes.txt']) fs.writeFileSync(path.join(wal, n), 'x');
    fs.mkdirSync(path.join(wal, '00000000_00001000.wal.lz4'));
    const c = new FileReplicaClient(root);
    expect(await c.generations()).toEqual([gen]);
    expect((await collect(c.snapshots(gen))).map((s) => s.index)).toEqual([2]);
    expect((await collect(c.walSegments(gen))).map((s) => s.offset)).toEqual([0x20]);
  });

  test('refuses the Litestream v0.3.4 whole-index WAL layout with a clear error', async () => {
    const root = tmpDir();
    const gen = newGeneration();
    const wal = path.join(root, 'generations', gen, 'wal');
    fs.mkdirSync(wal, { recursive: true });
    fs.writeFileSync(path.join(wal, '00000000.wal.lz4'), 'legacy');
    fs.writeFileSync(path.join(wal, '00000001.wal'), 'legacy');
    const err = await collect(new FileReplicaClient(root).walSegments(gen)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplicaError);
    expect((err as Error).message).toBe(
      `list generations/${gen}/wal: replica uses the Litestream v0.3.4 WAL layout (whole-index .wal files), which Lifeboat cannot read`,
    );
  });

  test('lists a replica written by Litestream v0.3.11 exactly', async () => {
    const { replica } = unpackFixture('basic');
    const c = new FileReplicaClient(replica);
    const gens = await c.generations();
    expect(gens.length).toBe(1);
    const gen = gens[0];
    const onDisk = walk(path.join(replica, 'generations', gen));
    const snaps = await collect(c.snapshots(gen));
    const segs = await collect(c.walSegments(gen));
    expect(snaps.length + segs.length).toBe(onDisk.length);
    expect(snaps.map((s) => s.index)).toEqual([0]);
    for (const s of segs) {
      const file = path.join(replica, 'generations', gen, 'wal', `${s.index.toString(16).padStart(8, '0')}_${s.offset.toString(16).padStart(8, '0')}.wal.lz4`);
      const st = fs.statSync(file, { bigint: true });
      expect(s.size).toBe(Number(st.size));
      expect(s.createdAt.getTime()).toBe(Number(st.mtimeNs / 1_000_000n));
    }
    const first = await readAll(await c.readSnapshot(gen, 0));
    expect(first.subarray(0, 4).toString('hex')).toBe('04224d18');
  });

  test('a write whose body fails leaves neither the file nor its .tmp', async () => {
    const root = tmpDir();
    const gen = newGeneration();
    const c = new FileReplicaClient(root);
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1000));
        this.destroy(new Error('source broke'));
      },
    });
    await expect(c.writeSnapshot(gen, 0, failing)).rejects.toThrow(`write snapshot generations/${gen}/snapshots/00000000.snapshot.lz4: source broke`);
    expect(walk(root)).toEqual([]);
  });

  test('createReplicaClient makes a file client on cfg.path', async () => {
    const root = tmpDir();
    const c = createReplicaClient({ name: 'file', type: 'file', path: root, retention: 0, retentionCheckInterval: 0, syncInterval: 0, snapshotInterval: 0, validationInterval: 0 });
    expect(c).toBeInstanceOf(FileReplicaClient);
    expect(c.location).toBe(root);
  });
});
