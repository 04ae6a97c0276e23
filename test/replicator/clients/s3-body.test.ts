import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { prepareBody } from '../../../src/replicator/clients/s3-body.js';
import { readAll } from '../replica-client.contract.js';

const chunks = (buf: Buffer, n: number) => Readable.from(Array.from({ length: Math.ceil(buf.length / n) }, (_, i) => buf.subarray(i * n, (i + 1) * n)));

describe('prepareBody', () => {
  test('bytes pass through; a stream that ends within the limit becomes bytes', async () => {
    const b = randomBytes(1000);
    expect(await prepareBody(b, 100)).toEqual({ bytes: b });
    const p = await prepareBody(chunks(b, 64), 1000);
    expect('bytes' in p && Buffer.from(p.bytes).equals(b)).toBe(true);
  });

  test('a longer stream replays every byte in order and reports its size at the end', async () => {
    const b = randomBytes(10_000);
    const p = await prepareBody(chunks(b, 700), 3000);
    if (!('stream' in p)) throw new Error('expected a stream');
    expect((await readAll(p.stream)).equals(b)).toBe(true);
    expect(p.size()).toBe(10_000);
  });

  test('a source error reaches the replayed stream', async () => {
    const src = new Readable({ read() {} });
    src.push(Buffer.alloc(5000));
    const p = await prepareBody(src, 1000);
    if (!('stream' in p)) throw new Error('expected a stream');
    setTimeout(() => src.destroy(new Error('disk gone')), 10);
    await expect(readAll(p.stream)).rejects.toThrow('disk gone');
  });
});
