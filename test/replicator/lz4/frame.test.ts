import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { xxh32 } from '../../../src/replicator/lz4/xxhash32.js';
import { FrameReader } from '../../../src/replicator/lz4/decoder.js';
import {
  createFrameDecoder, createFrameEncoder, decodeFrame, encodeFrame, encodeFrameInSteps, Lz4Error,
} from '../../../src/replicator/lz4/frame.js';
import { tmpDir } from '../../helpers/tmp.js';
import { chunked, pageData, randomBytes, randomSizes, sqliteFiles, through } from './helpers.js';

const MB4 = 4 << 20;

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

/** lz4Message returns the Lz4Error message decodeFrame throws for data. */
function lz4Message(data: Uint8Array): string {
  const err = errorOf(() => decodeFrame(data));
  expect(err).toBeInstanceOf(Lz4Error);
  return err.message;
}

/** header builds a frame header with FLG/BD and optional descriptor bytes, HC computed. */
function header(flg: number, bd: number, extra: number[] = []): Buffer {
  const desc = Buffer.from([flg, bd, ...extra]);
  return Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18]), desc, Buffer.from([(xxh32(desc) >>> 8) & 0xff])]);
}

/** blockWords walks a frame written by our encoder and returns its block size words. */
function blockWords(frame: Buffer): number[] {
  const words: number[] = [];
  for (let i = 7; ; ) {
    const w = frame.readUInt32LE(i);
    words.push(w);
    if (w === 0) return words;
    i += 4 + (w & 0x7fffffff);
  }
}

describe('encodeFrame / createFrameEncoder', () => {
  it('writes Litestream\'s header: FLG 0x64, BD 0x70, and the content checksum at the end', () => {
    const data = pageData(10_000);
    const frame = encodeFrame(data);
    expect([...frame.subarray(0, 7)]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x64, 0x70, 0xb9]);
    expect(frame.readUInt32LE(frame.length - 4)).toBe(xxh32(data));
    expect([...encodeFrame(Buffer.alloc(0))]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x64, 0x70, 0xb9, 0, 0, 0, 0, 0x05, 0x5d, 0xcc, 0x02]);
  });

  it('sets BD from blockSize and rejects other sizes', async () => {
    const bds = { 65536: 0x40, 262144: 0x50, 1048576: 0x60, 4194304: 0x70 } as const;
    for (const [size, bd] of Object.entries(bds)) {
      const frame = await through(createFrameEncoder({ blockSize: Number(size) as 65536 }), [pageData(300_000)]);
      expect(frame[5]).toBe(bd);
      expect(blockWords(frame).slice(0, -1).length).toBe(Math.ceil(300_000 / Number(size)));
    }
    expect(() => createFrameEncoder({ blockSize: 1000 as 65536 })).toThrow(/lz4 block size 1000: must be one of 65536/);
  });

  it('blockBytes cuts smaller blocks under the same BD 0x70, and rejects a size above the maximum', async () => {
    const data = pageData(1_000_000);
    const frame = await through(createFrameEncoder({ blockBytes: 262144 }), chunked(data, randomSizes(100_000)));
    expect(frame[5]).toBe(0x70);
    expect(blockWords(frame).slice(0, -1).length).toBe(4);
    expect(decodeFrame(frame).equals(data)).toBe(true);
    expect(encodeFrame(data, { blockBytes: 262144 }).equals(frame)).toBe(true);
    expect(() => createFrameEncoder({ blockSize: 65536, blockBytes: 65537 })).toThrow('lz4 block bytes 65537: must be 1..65536');
  });

  it('encodeFrameInSteps reads each block just before compressing it and pauses between blocks', async () => {
    const data = pageData(700_000);
    const events: string[] = [];
    const frame = await encodeFrameInSteps(
      data.length,
      (start, end) => {
        events.push(`read ${start}-${end}`);
        return data.subarray(start, end);
      },
      { blockBytes: 262144, pause: async () => void events.push('pause') },
    );
    expect(events).toEqual(['read 0-262144', 'pause', 'read 262144-524288', 'pause', 'read 524288-700000']);
    expect(frame.equals(encodeFrame(data, { blockBytes: 262144 }))).toBe(true);
    expect(decodeFrame(frame).equals(data)).toBe(true);
    expect((await encodeFrameInSteps(0, () => Buffer.alloc(0), { blockBytes: 262144, pause: async () => {} })).equals(encodeFrame(Buffer.alloc(0)))).toBe(true);
  });

  it('stores incompressible blocks uncompressed (high bit of the block size)', () => {
    const random = randomBytes(MB4 + 10);
    const frame = encodeFrame(random);
    expect(blockWords(frame)).toEqual([(MB4 | 0x80000000) >>> 0, (10 | 0x80000000) >>> 0, 0]);
    expect(frame.length).toBe(7 + 4 + MB4 + 4 + 10 + 4 + 4);
    expect(decodeFrame(frame).equals(random)).toBe(true);
  });

  it('writes the same bytes whatever the input chunking', async () => {
    const data = pageData(MB4 + 300_000);
    const oneShot = encodeFrame(data);
    expect((await through(createFrameEncoder(), chunked(data, randomSizes(200_000)))).equals(oneShot)).toBe(true);
    const small = pageData(3000);
    expect((await through(createFrameEncoder(), chunked(small, 1))).equals(encodeFrame(small))).toBe(true);
  });
});

describe('round trips', () => {
  const { db, wal } = sqliteFiles();
  const inputs: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['1 byte', Buffer.from([42])],
    ['random', randomBytes(1_000_000)],
    ['zeros', Buffer.alloc(9_000_000)],
    ['pages', pageData(3_000_000)],
    ['sqlite db', db],
    ['sqlite wal', wal],
    ['4 MB - 1', pageData(MB4 - 1)],
    ['4 MB', pageData(MB4)],
    ['4 MB + 1', pageData(MB4 + 1)],
  ];

  it.each(inputs)('%s: one-shot', (_name, data) => {
    expect(decodeFrame(encodeFrame(data)).equals(data)).toBe(true);
  });

  it.each(inputs)('%s: streamed in random chunk sizes both ways', async (_name, data) => {
    const frame = await through(createFrameEncoder(), chunked(data, randomSizes(100_000, data.length)));
    const back = await through(createFrameDecoder(), chunked(frame, randomSizes(70_000, frame.length)));
    expect(back.equals(data)).toBe(true);
  });

  it('round-trips small inputs streamed a byte at a time, with every block size', async () => {
    const data = pageData(70_000);
    for (const blockSize of [65536, 262144, 1048576, 4194304] as const) {
      const frame = await through(createFrameEncoder({ blockSize }), chunked(data.subarray(0, 5000), 1));
      expect((await through(createFrameDecoder(), chunked(frame, 1))).equals(data.subarray(0, 5000))).toBe(true);
      const blocks = await through(createFrameEncoder({ blockSize }), [data]);
      expect((await through(createFrameDecoder(), chunked(blocks, 1))).equals(data)).toBe(true);
    }
  });
});

describe('decodeFrame errors', () => {
  const data = pageData(8192);
  const frame = encodeFrame(data);

  it('rejects empty input, a bad magic, and trailing garbage', () => {
    expect(lz4Message(Buffer.alloc(0))).toBe('empty lz4 input');
    expect(lz4Message(Buffer.from('SQLite format 3\0'))).toBe('bad lz4 magic 0x694c5153');
    expect(lz4Message(Buffer.concat([frame, Buffer.from('garbage!')]))).toBe('bad lz4 magic 0x62726167');
    expect(lz4Message(Buffer.concat([frame, Buffer.from('\n')]))).toBe('truncated lz4 frame');
  });

  it('reports every truncation', () => {
    for (let n = 1; n < frame.length; n++) expect(lz4Message(frame.subarray(0, n)), `cut at ${n}`).toBe('truncated lz4 frame');
  });

  it('checks the header checksum, content checksum and content size', () => {
    const badHC = Buffer.from(frame);
    badHC[6] ^= 1;
    expect(lz4Message(badHC)).toBe('lz4 header checksum mismatch');
    const badSum = Buffer.from(frame);
    badSum[badSum.length - 1] ^= 0x40;
    expect(lz4Message(badSum)).toBe('lz4 content checksum mismatch');
    const body = frame.subarray(7);
    const sized = (n: number) => Buffer.concat([header(0x6c, 0x70, [n & 0xff, n >>> 8, 0, 0, 0, 0, 0, 0]), body]);
    expect(decodeFrame(sized(8192)).equals(data)).toBe(true);
    expect(lz4Message(sized(8191))).toBe('lz4 content size mismatch: header says 8191, decoded 8192');
  });

  it('rejects dictionaries, reserved bits, unknown versions and block ids', () => {
    expect(lz4Message(Buffer.concat([header(0x65, 0x70, [1, 2, 3, 4]), Buffer.alloc(8)]))).toBe('lz4 frame uses a dictionary (unsupported)');
    expect(lz4Message(Buffer.concat([header(0x66, 0x70), Buffer.alloc(8)]))).toBe('lz4 header reserved bits set');
    expect(lz4Message(Buffer.concat([header(0xa4, 0x70), Buffer.alloc(8)]))).toBe('unsupported lz4 frame version 2');
    expect(lz4Message(Buffer.concat([header(0x64, 0x30), Buffer.alloc(8)]))).toBe('bad lz4 block size id 3');
  });

  it('rejects a block larger than the frame allows, and a malformed block, naming its offset', () => {
    const tooBig = Buffer.concat([header(0x64, 0x40), Buffer.from([0x01, 0x00, 0x01, 0x00])]);
    expect(lz4Message(tooBig)).toBe('malformed lz4 block at offset 7');
    const bad = Buffer.concat([header(0x64, 0x40), Buffer.from([4, 0, 0, 0, 0x10, 0x61, 0x09, 0x00, 0, 0, 0, 0])]);
    expect(lz4Message(bad)).toBe('malformed lz4 block at offset 13');
  });

  it('never returns wrong bytes when any byte is flipped', () => {
    let failed = 0;
    for (let i = 0; i < frame.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const flipped = Buffer.from(frame);
        flipped[i] ^= mask;
        const err = errorOf(() => {
          if (!decodeFrame(flipped).equals(data)) throw new Error(`wrong output with byte ${i} ^ ${mask}`);
          throw new Lz4Error('same output');
        });
        expect(err, err.message).toBeInstanceOf(Lz4Error);
        if (err.message !== 'same output') failed++;
      }
    }
    expect(failed).toBeGreaterThan(frame.length * 3 * 0.95);
  });
});

describe('content checksum verification', () => {
  it('is on by default, and can be turned off for callers that verify the bytes themselves', async () => {
    const data = pageData(100_000);
    const frame = Buffer.from(encodeFrame(data));
    frame[frame.length - 1] ^= 0xff;
    const decode = async (opts?: { verifyContentChecksum?: boolean }) => {
      const parts: Buffer[] = [];
      await pipeline(Readable.from([frame]), createFrameDecoder(opts), new Writable({ write: (c, _e, cb) => (parts.push(c), cb()) }));
      return Buffer.concat(parts);
    };
    await expect(decode()).rejects.toThrow('lz4 content checksum mismatch');
    expect((await decode({ verifyContentChecksum: false })).equals(data)).toBe(true);
  });
});

describe('borrowed blocks', () => {
  it('FrameReader with borrow gives the same bytes, compressed and stored blocks, whatever the chunking', () => {
    // 256 KB blocks: compressible pages, then random bytes (stored uncompressed).
    const data = Buffer.concat([pageData(600_000, 3), randomBytes(300_000, 9)]);
    const frame = encodeFrame(data, { blockSize: 262144 });
    for (const chunk of [frame.length, 65536, 7777]) {
      const reader = new FrameReader({ borrow: true });
      const parts: Buffer[] = [];
      let views = 0;
      for (let off = 0; off < frame.length; off += chunk) {
        reader.feed(frame.subarray(off, off + chunk));
        for (let b = reader.next(); b !== null; b = reader.next()) {
          if (!(b instanceof Buffer) || b.byteOffset > 0 || b.buffer.byteLength > b.length) views++;
          parts.push(Buffer.from(b));
        }
      }
      reader.end();
      expect(Buffer.concat(parts).equals(data)).toBe(true);
      expect(views).toBe(parts.length);
    }
  });
});

describe('frame sequences', () => {
  it('decodes concatenated frames and skips skippable frames', () => {
    const a = pageData(100_000, 1);
    const b = randomBytes(5000);
    const skip = Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 5, 0, 0, 0]), Buffer.from('hello')]);
    const input = Buffer.concat([skip, encodeFrame(a), skip, encodeFrame(b), encodeFrame(Buffer.alloc(0)), skip]);
    expect(decodeFrame(input).equals(Buffer.concat([a, b]))).toBe(true);
    expect(decodeFrame(skip).length).toBe(0);
  });

  it('streams through a decoder fed one byte at a time', async () => {
    const a = pageData(20_000, 1);
    const skip = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    const input = Buffer.concat([encodeFrame(a), skip, encodeFrame(a)]);
    expect((await through(createFrameDecoder(), chunked(input, 1))).equals(Buffer.concat([a, a]))).toBe(true);
  });

  it('emits stream errors as Lz4Error', async () => {
    const frame = encodeFrame(pageData(50_000));
    frame[frame.length - 2] ^= 1;
    await expect(through(createFrameDecoder(), chunked(frame, 1000))).rejects.toThrow('lz4 content checksum mismatch');
    await expect(through(createFrameDecoder(), [])).rejects.toThrow('empty lz4 input');
    await expect(through(createFrameDecoder(), [frame.subarray(0, 100)])).rejects.toBeInstanceOf(Lz4Error);
  });
});

describe('back-pressure', () => {
  /** maxBuffered feeds input in one chunk, drains the transform slowly, and returns the most output it ever held. */
  async function maxBuffered(transform: Transform, input: Buffer): Promise<{ max: number; total: number }> {
    let max = 0;
    let total = 0;
    const slow = new Writable({
      write(chunk: Buffer, _enc, cb) {
        max = Math.max(max, transform.readableLength);
        total += chunk.length;
        setImmediate(cb);
      },
    });
    await pipeline(Readable.from([input]), transform, slow);
    return { max, total };
  }

  it('decodes a very compressible frame given in one chunk without buffering more than a block', async () => {
    const frame = encodeFrame(Buffer.alloc(64 << 20));
    expect(frame.length).toBeLessThan(300_000);
    const { max, total } = await maxBuffered(createFrameDecoder(), frame);
    expect(total).toBe(64 << 20);
    expect(max).toBeLessThanOrEqual(MB4);
  });

  it('ends for consumers that read in paused mode (async iteration, readable events) when a block exceeds the high-water mark', async () => {
    const data = pageData(300_000);
    const file = path.join(tmpDir(), 'frame.lz4');
    fs.writeFileSync(file, encodeFrame(data));
    let iterated = 0;
    for await (const chunk of fs.createReadStream(file).pipe(createFrameDecoder())) iterated += (chunk as Buffer).length;
    expect(iterated).toBe(data.length);
    const dec = fs.createReadStream(file, { highWaterMark: 100 }).pipe(createFrameDecoder());
    const read = await new Promise<number>((resolve, reject) => {
      let n = 0;
      dec.on('readable', () => {
        for (let c = dec.read() as Buffer | null; c !== null; c = dec.read() as Buffer | null) n += c.length;
      });
      dec.on('end', () => resolve(n));
      dec.on('error', reject);
    });
    expect(read).toBe(data.length);
  });

  it('encodes one huge chunk without buffering more than a block of output', async () => {
    const { max, total } = await maxBuffered(createFrameEncoder(), randomBytes(32 << 20));
    expect(total).toBeGreaterThan(32 << 20);
    expect(max).toBeLessThanOrEqual(MB4 + 100);
  });
});
