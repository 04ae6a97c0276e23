/** Interoperability with the real lz4 CLI and with files the reference Litestream wrote. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFrameDecoder, decodeFrame, encodeFrame, createFrameEncoder } from '../../../src/replicator/lz4/frame.js';
import { xxh32 } from '../../../src/replicator/lz4/xxhash32.js';
import { unpackFixture } from '../../helpers/fixtures.js';
import { tmpDir } from '../../helpers/tmp.js';
import { needTool } from '../../helpers/tools.js';
import { chunked, lz4, pageData, randomBytes, randomSizes, sqliteFiles, through } from './helpers.js';

const MB4 = 4 << 20;
const noLz4 = needTool('lz4');
const dir = tmpDir('lifeboat-lz4cli-');
const { db, wal } = sqliteFiles();
/** mixed spans several 4 MB blocks: pages, random bytes, zeros and real WAL bytes. */
const mixed = Buffer.concat([pageData(3_000_000), randomBytes(1_500_000), Buffer.alloc(1_000_000), wal, pageData(MB4 + 1, 9)]);

/** cliFrame compresses data with the lz4 CLI and `opts`, from a file (so --content-size can work). */
function cliFrame(data: Uint8Array, opts: string[]): Buffer {
  const input = path.join(dir, 'in.bin');
  const output = path.join(dir, 'out.lz4');
  fs.writeFileSync(input, data);
  execFileSync('lz4', ['-q', '-f', ...opts, input, output]);
  return fs.readFileSync(output);
}

describe.skipIf(noLz4)('frames we write, read by lz4 -dc', () => {
  const inputs: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)], ['1 byte', Buffer.from('z')], ['random', randomBytes(1_000_000)],
    ['zeros', Buffer.alloc(9_000_000)], ['sqlite db', db], ['sqlite wal', wal], ['mixed', mixed],
    ['4 MB - 1', pageData(MB4 - 1)], ['4 MB', pageData(MB4)], ['4 MB + 1', pageData(MB4 + 1)],
  ];

  it.each(inputs)('%s', (_name, data) => {
    expect(lz4(['-dc'], encodeFrame(data)).equals(data)).toBe(true);
  });

  it('blocks of 256 KB under the 4 MB maximum (what replicas write)', async () => {
    const frame = await through(createFrameEncoder({ blockBytes: 262144 }), chunked(mixed, randomSizes(300_000)));
    expect(frame[5]).toBe(0x70);
    expect(lz4(['-dc'], frame).equals(mixed)).toBe(true);
  });

  it.each([65536, 262144, 1048576] as const)('block size %i', async (blockSize) => {
    const frame = await through(createFrameEncoder({ blockSize }), chunked(mixed, randomSizes(300_000)));
    expect(lz4(['-dc'], frame).equals(mixed)).toBe(true);
  });
});

describe.skipIf(noLz4)('frames the lz4 CLI writes, read by us', () => {
  const options = [
    ['-B4'], ['-B5'], ['-B6'], ['-B7'], ['-BD'], ['-B4', '-BD'], ['-BX'], ['-B4', '-BX', '-BD'],
    ['--content-size'], ['--no-frame-crc'], ['-B4', '-BD', '--no-frame-crc', '--content-size'],
    ['-1'], ['-9'], ['-12'], ['--fast'], ['--fast=20'], ['-l'],
  ];

  it.each(options)('lz4 %s', async (...opts) => {
    const frame = cliFrame(mixed, opts);
    expect(decodeFrame(frame).equals(mixed)).toBe(true);
    expect((await through(createFrameDecoder(), chunked(frame, randomSizes(100_000)))).equals(mixed)).toBe(true);
  });

  it('uses the 64 KB window of linked blocks (-BD): the same frame marked independent does not decode', () => {
    const frame = cliFrame(pageData(1_000_000), ['-B4', '-BD']);
    expect(frame[4] & 0x20).toBe(0);
    const forced = Buffer.from(frame);
    forced[4] |= 0x20;
    forced[6] = (xxh32(forced.subarray(4, 6)) >>> 8) & 0xff;
    expect(() => decodeFrame(forced)).toThrow(/malformed lz4 block|content checksum/);
  });

  it('decodes concatenated frames and skippable frames as lz4 -dc does', () => {
    const skip = Buffer.concat([Buffer.from([0x5f, 0x2a, 0x4d, 0x18, 10, 0, 0, 0]), Buffer.from('0123456789')]);
    const a = cliFrame(pageData(200_000, 2), ['-B4', '-BD', '-BX']);
    const b = cliFrame(randomBytes(100_000), ['--content-size']);
    const input = Buffer.concat([a, skip, b, encodeFrame(wal), skip]);
    const want = Buffer.concat([pageData(200_000, 2), randomBytes(100_000), wal]);
    expect(lz4(['-dc'], input).equals(want)).toBe(true);
    expect(decodeFrame(input).equals(want)).toBe(true);
  });

  it('rejects a flipped block checksum (-BX)', () => {
    const frame = cliFrame(pageData(100_000), ['-BX', '--no-frame-crc']);
    const blockLen = frame.readUInt32LE(7) & 0x7fffffff;
    frame[7 + 4 + blockLen] ^= 1;
    expect(() => decodeFrame(frame)).toThrow('lz4 block checksum mismatch');
  });
});

describe.skipIf(noLz4)('files the reference Litestream wrote', () => {
  const files = ['basic', 'multi'].flatMap((name) => {
    const { replica } = unpackFixture(name);
    return (fs.readdirSync(replica, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.lz4'))
      .map((f): [string, string] => [`${name}/${f}`, path.join(replica, f)]);
  });

  it('has snapshots and WAL segments to check', () => {
    expect(files.filter(([name]) => name.includes('snapshot')).length).toBeGreaterThanOrEqual(2);
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files)('%s decodes as lz4 -dc does, and re-encodes to the same header', async (_name, file) => {
    const frame = fs.readFileSync(file);
    const want = execFileSync('lz4', ['-dc', file], { maxBuffer: 1 << 30 });
    expect(decodeFrame(frame).equals(want)).toBe(true);
    expect((await through(createFrameDecoder(), chunked(frame, 1 + (frame.length % 997)))).equals(want)).toBe(true);
    const ours = encodeFrame(want);
    expect(ours.subarray(0, 7).equals(frame.subarray(0, 7))).toBe(true);
    expect(lz4(['-dc'], ours).equals(want)).toBe(true);
  });
});
