/**
 * replica-client.contract: the one suite every ReplicaClient passes (STYLE §2). Each case
 * gets a fresh client from `make` (a random directory or key prefix) and checks outcomes:
 * bytes equal, listings exact, errors typed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { ReplicaError, isNotFound } from '../../src/errors.js';
import { newGeneration, type Pos } from '../../src/replicator/pos.js';
import type { ReadBody, ReplicaClient } from '../../src/replicator/replica-client.js';

/** MakeClient returns a client on an empty replica and a cleanup for it. */
export type MakeClient = () => Promise<{ client: ReplicaClient; cleanup(): Promise<void> }>;

/** collect drains an async iterable into an array. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** readAll reads a body to the end (a body handed over whole is already read). */
export async function readAll(stream: ReadBody): Promise<Buffer> {
  if (!(stream instanceof Readable)) return Buffer.from(stream);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** chunked streams `buf` in `size`-byte chunks. */
function chunked(buf: Buffer, size: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
    })(),
  );
}

/** endless is a stream that yields a chunk every few ms and never ends. */
function endless(): Readable {
  return new Readable({
    read() {
      setTimeout(() => this.push(Buffer.alloc(64 * 1024, 1)), 5);
    },
  });
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const byPos = (a: { index: number; offset: number }, b: { index: number; offset: number }) => a.index - b.index || a.offset - b.offset;

/**
 * ContractOptions: `refusesOverwrite` when the store behind the client honours a
 * create-only condition (a directory; S3, R2, Tigris, MinIO — not s3rver 3.7.1, which
 * ignores `If-None-Match` on PUT).
 */
export interface ContractOptions {
  refusesOverwrite: boolean;
}

/** replicaClientContract defines the contract cases for one backend. */
export function replicaClientContract(name: string, make: MakeClient, opts: ContractOptions = { refusesOverwrite: true }): void {
  describe(`ReplicaClient contract: ${name}`, () => {
    const withClient = (fn: (c: ReplicaClient) => Promise<void>) => async () => {
      const { client, cleanup } = await make();
      try {
        await fn(client);
      } finally {
        await client.close();
        await cleanup();
      }
    };

    test('an empty replica lists nothing', withClient(async (c) => {
      const gen = newGeneration();
      expect(await c.generations()).toEqual([]);
      expect(await collect(c.snapshots(gen))).toEqual([]);
      expect(await collect(c.walSegments(gen))).toEqual([]);
    }));

    test('writes and reads a snapshot from bytes and from a stream', withClient(async (c) => {
      const gen = newGeneration();
      const a = randomBytes(1000);
      const b = randomBytes(300_000);
      const before = Date.now();
      const infoA = await c.writeSnapshot(gen, 0, a);
      const infoB = await c.writeSnapshot(gen, 0x1f, chunked(b, 7_000));
      expect(infoA).toMatchObject({ generation: gen, index: 0, size: 1000 });
      expect(infoB).toMatchObject({ generation: gen, index: 0x1f, size: 300_000 });
      expect((await readAll(await c.readSnapshot(gen, 0))).equals(a)).toBe(true);
      expect((await readAll(await c.readSnapshot(gen, 0x1f))).equals(b)).toBe(true);
      const list = (await collect(c.snapshots(gen))).sort((x, y) => x.index - y.index);
      expect(list.map(({ generation, index, size }) => ({ generation, index, size }))).toEqual([
        { generation: gen, index: 0, size: 1000 },
        { generation: gen, index: 0x1f, size: 300_000 },
      ]);
      for (const s of list) {
        expect(s.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
        expect(s.createdAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      }
      expect(await c.generations()).toEqual([gen]);
    }));

    test('a second write of a snapshot replaces it', withClient(async (c) => {
      const gen = newGeneration();
      await c.writeSnapshot(gen, 3, Buffer.from('first version'));
      await c.writeSnapshot(gen, 3, Buffer.from('second'));
      expect((await readAll(await c.readSnapshot(gen, 3))).toString()).toBe('second');
      expect((await collect(c.snapshots(gen))).map((s) => s.size)).toEqual([6]);
    }));

    test('writes, reads and lists WAL segments with index, offset, size and createdAt', withClient(async (c) => {
      const gen = newGeneration();
      const segs = [
        { pos: { generation: gen, index: 0, offset: 0 }, body: randomBytes(4152) },
        { pos: { generation: gen, index: 0, offset: 0x1038 }, body: randomBytes(10) },
        { pos: { generation: gen, index: 1, offset: 0 }, body: randomBytes(99) },
        { pos: { generation: gen, index: 0x7ffffffe, offset: 0xfffff000 }, body: randomBytes(1) },
      ];
      const before = Date.now();
      for (const s of segs) {
        const info = await c.writeWALSegment(s.pos, s.body.length > 50 ? chunked(s.body, 1000) : s.body);
        expect(info).toMatchObject({ ...s.pos, size: s.body.length });
      }
      for (const s of segs) expect((await readAll(await c.readWALSegment(s.pos))).equals(s.body)).toBe(true);
      const list = (await collect(c.walSegments(gen))).sort(byPos);
      expect(list.map(({ generation, index, offset, size }) => ({ generation, index, offset, size }))).toEqual(
        segs.map((s) => ({ ...s.pos, size: s.body.length })),
      );
      for (const s of list) {
        expect(s.createdAt).toBeInstanceOf(Date);
        expect(s.createdAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
        expect(s.createdAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      }
      expect(await collect(c.snapshots(gen))).toEqual([]);
    }));

    test('an unknown generation lists empty next to a known one', withClient(async (c) => {
      const gen = newGeneration();
      await c.writeSnapshot(gen, 0, Buffer.from('x'));
      await c.writeWALSegment({ generation: gen, index: 0, offset: 0 }, Buffer.from('y'));
      const other = newGeneration();
      expect(await collect(c.snapshots(other))).toEqual([]);
      expect(await collect(c.walSegments(other))).toEqual([]);
      expect(await c.generations()).toEqual([gen]);
    }));

    test('reading a missing snapshot or segment is a ReplicaError marked notFound', withClient(async (c) => {
      const gen = newGeneration();
      await c.writeSnapshot(gen, 1, Buffer.from('x'));
      const missing = [
        () => c.readSnapshot(gen, 2),
        () => c.readSnapshot(newGeneration(), 0),
        () => c.readWALSegment({ generation: gen, index: 0, offset: 0 }),
      ];
      for (const read of missing) {
        const err = await read().then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(ReplicaError);
        expect((err as ReplicaError).notFound).toBe(true);
        expect(isNotFound(err)).toBe(true);
      }
      const err = (await c.readSnapshot(gen, 2).catch((e: unknown) => e)) as ReplicaError;
      expect(err.message).toMatch(new RegExp(`^read snapshot generations/${gen}/snapshots/00000002\\.snapshot\\.lz4: `));
    }));

    test('a generation name that is not 16 hex characters is refused', withClient(async (c) => {
      await expect(c.writeSnapshot('../../etc', 0, Buffer.from('x'))).rejects.toThrow(/invalid generation name/);
      await expect(collect(c.walSegments('ABCDEF0123456789'))).rejects.toBeInstanceOf(ReplicaError);
    }));

    test('deletes snapshots, segments and generations; missing ones are no error', withClient(async (c) => {
      const [g1, g2] = [newGeneration(), newGeneration()];
      for (const g of [g1, g2]) {
        await c.writeSnapshot(g, 0, Buffer.from('s0'));
        await c.writeSnapshot(g, 1, Buffer.from('s1'));
        for (let i = 0; i < 3; i++) await c.writeWALSegment({ generation: g, index: i, offset: 0 }, Buffer.from(`w${i}`));
      }
      await c.deleteSnapshot(g1, 0);
      await c.deleteSnapshot(g1, 0);
      await c.deleteSnapshot(newGeneration(), 7);
      expect((await collect(c.snapshots(g1))).map((s) => s.index)).toEqual([1]);

      const wal = (i: number): Pos => ({ generation: g1, index: i, offset: 0 });
      await c.deleteWALSegments([wal(0), wal(2), wal(9)]);
      await c.deleteWALSegments([]);
      expect((await collect(c.walSegments(g1))).map((s) => s.index)).toEqual([1]);

      await c.deleteGeneration(g1);
      await c.deleteGeneration(g1);
      await c.deleteGeneration(newGeneration());
      expect(await c.generations()).toEqual([g2]);
      expect(await collect(c.snapshots(g1))).toEqual([]);
      expect(await collect(c.walSegments(g1))).toEqual([]);
      expect((await collect(c.snapshots(g2))).length).toBe(2);
      expect((await collect(c.walSegments(g2))).length).toBe(3);
    }));

    test('lists a generation that holds only WAL segments', withClient(async (c) => {
      const [g1, g2] = [newGeneration(), newGeneration()];
      await c.writeWALSegment({ generation: g1, index: 0, offset: 0 }, Buffer.from('a'));
      await c.writeWALSegment({ generation: g2, index: 5, offset: 32 }, Buffer.from('b'));
      expect((await c.generations()).sort()).toEqual([g1, g2].sort());
    }));

    test('lists and deletes more than 1,000 segments of one generation', withClient(async (c) => {
      const gen = newGeneration();
      const positions: Pos[] = Array.from({ length: 1_105 }, (_, i) => ({ generation: gen, index: i % 3, offset: 32 + i * 4152 }));
      await inParallel(positions, 32, (p) => c.writeWALSegment(p, Buffer.from(String(p.offset))));
      const list = (await collect(c.walSegments(gen))).sort(byPos);
      expect(list.length).toBe(positions.length);
      expect(list.map(({ index, offset }) => ({ generation: gen, index, offset }))).toEqual([...positions].sort(byPos));
      expect(list.every((s) => s.size === String(s.offset).length)).toBe(true);
      await c.deleteWALSegments(positions);
      expect(await collect(c.walSegments(gen))).toEqual([]);
    }));

    test('round-trips a 20 MB streamed snapshot', withClient(async (c) => {
      const gen = newGeneration();
      const big = randomBytes(20 * 1024 * 1024);
      const info = await c.writeSnapshot(gen, 2, chunked(big, 64 * 1024));
      expect(info.size).toBe(big.length);
      const back = await readAll(await c.readSnapshot(gen, 2));
      expect(back.length).toBe(big.length);
      expect(sha(back)).toBe(sha(big));
      expect((await collect(c.snapshots(gen)))[0]).toMatchObject({ index: 2, size: big.length });
    }));

    test('an aborted signal rejects every call, and an aborted write leaves nothing', withClient(async (c) => {
      const gen = newGeneration();
      await c.writeSnapshot(gen, 0, Buffer.from('kept'));
      const aborted = AbortSignal.abort();
      await expect(c.generations(aborted)).rejects.toMatchObject({ name: 'AbortError' });
      await expect(collect(c.snapshots(gen, aborted))).rejects.toMatchObject({ name: 'AbortError' });
      await expect(collect(c.walSegments(gen, aborted))).rejects.toMatchObject({ name: 'AbortError' });
      await expect(c.readSnapshot(gen, 0, aborted)).rejects.toMatchObject({ name: 'AbortError' });
      await expect(c.writeWALSegment({ generation: gen, index: 0, offset: 0 }, Buffer.from('w'), aborted)).rejects.toMatchObject({ name: 'AbortError' });
      await expect(c.deleteGeneration(gen, aborted)).rejects.toMatchObject({ name: 'AbortError' });

      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      await expect(c.writeSnapshot(gen, 1, endless(), ac.signal)).rejects.toMatchObject({ name: 'AbortError' });
      expect((await collect(c.snapshots(gen))).map((s) => s.index)).toEqual([0]);
      expect(await collect(c.walSegments(gen))).toEqual([]);
    }));

    test('aborting while a snapshot is read ends the stream with an error', withClient(async (c) => {
      const gen = newGeneration();
      await c.writeSnapshot(gen, 0, randomBytes(4 * 1024 * 1024));
      const ac = new AbortController();
      const stream = await c.readSnapshot(gen, 0, ac.signal);
      ac.abort();
      await expect(readAll(stream)).rejects.toMatchObject({ name: 'AbortError' });
    }));

    test('claims are created, listed, read and deleted beside the generation, invisible to snapshot and segment listings', withClient(async (c) => {
      const gen = newGeneration();
      await c.writeSnapshot(gen, 0, Buffer.from('s'));
      expect(await c.claims(gen)).toEqual([]);
      const a = '00000000_00000000.0123456789abcdef.claim';
      const b = '00000000_00000000.0123456789abcdef.00000001_00001000.released';
      expect(await c.createClaim(gen, a, Buffer.from('{"a":1}\n'))).toBe(true);
      expect(await c.createClaim(gen, b, Buffer.from('{"b":2}\n'))).toBe(true);
      expect((await c.claims(gen)).sort()).toEqual([b, a].sort());
      expect((await c.readClaim(gen, a)).toString()).toBe('{"a":1}\n');
      expect(await c.generations()).toEqual([gen]);
      expect((await collect(c.snapshots(gen))).map((x) => x.index)).toEqual([0]);
      expect(await collect(c.walSegments(gen))).toEqual([]);
      await c.deleteClaim(gen, a);
      await c.deleteClaim(gen, a);
      expect(await c.claims(gen)).toEqual([b]);
      await expect(c.readClaim(gen, a)).rejects.toSatisfy(isNotFound);
      await c.deleteGeneration(gen);
      expect(await c.claims(gen)).toEqual([]);
      await expect(c.createClaim(gen, '../x.claim', Buffer.from('x'))).rejects.toThrow(/invalid claim name/);
    }));

    test('creating a claim that exists reports it and keeps the first bytes (where the store can refuse)', withClient(async (c) => {
      const gen = newGeneration();
      const n = '00000002_00000020.fedcba9876543210.claim';
      expect(await c.createClaim(gen, n, Buffer.from('first'))).toBe(true);
      const again = await c.createClaim(gen, n, Buffer.from('second'));
      if (opts.refusesOverwrite) {
        expect(again).toBe(false);
        expect((await c.readClaim(gen, n)).toString()).toBe('first');
      }
      expect(await c.claims(gen)).toEqual([n]);
    }));
  });
}
