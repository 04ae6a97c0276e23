/** Bounded memory: hundreds of MB through the encoder and decoder Transforms. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createFrameDecoder, createFrameEncoder } from '../../../src/replicator/lz4/frame.js';
import { pageData, prng } from './helpers.js';

const TOTAL = 300 << 20;
const CHUNK = 65536;
const MB = 1 << 20;
/** GC_EVERY: collect after this many decoded blocks (4 MB each) reach the sink; see the test's comment. */
const GC_EVERY = 2;

/** peakRSS reads the process's RSS high-water mark in bytes. */
function peakRSS(): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
}

/** resetPeak restarts the RSS high-water mark from the current RSS (Linux clear_refs). */
function resetPeak(): void {
  fs.writeFileSync('/proc/self/clear_refs', '5');
}

/** collector returns V8's gc(), exposed at run time. */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** source yields TOTAL bytes of page-like data (every 8th chunk random), hashing what it gives. */
function source(hash: crypto.Hash): Readable {
  const pool = pageData(MB);
  const rand = prng(11);
  let given = 0;
  return new Readable({
    read() {
      if (given >= TOTAL) {
        this.push(null);
        return;
      }
      const chunk = Buffer.allocUnsafe(CHUNK);
      if ((given / CHUNK) % 8 === 7) crypto.randomFillSync(chunk);
      else pool.copy(chunk, 0, rand() % (pool.length - CHUNK));
      chunk.writeUInt32LE(given / CHUNK, 0);
      hash.update(chunk);
      given += CHUNK;
      this.push(chunk);
    },
  });
}

describe('memory', () => {
  // Every output byte is a new buffer, and V8 lets ~64 MB of dead buffers pile up before
  // it collects them; collecting every other block measures what the codec itself holds
  // (about three blocks of scratch plus the blocks in flight), not V8's collection policy.
  it('streams 300 MB through encoder and decoder with peak RSS growth under 64 MB', async () => {
    const gc = collector();
    const inHash = crypto.createHash('sha1');
    const outHash = crypto.createHash('sha1');
    let received = 0;
    let writes = 0;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        outHash.update(chunk);
        received += chunk.length;
        if (++writes % GC_EVERY === 0) gc();
        cb();
      },
    });
    const input = source(inHash);
    gc();
    const baseline = process.memoryUsage.rss();
    resetPeak();
    await pipeline(input, createFrameEncoder(), createFrameDecoder(), sink);
    const growth = peakRSS() - baseline;
    expect(received).toBe(TOTAL);
    expect(outHash.digest('hex')).toBe(inHash.digest('hex'));
    expect(growth, `peak RSS grew by ${(growth / MB).toFixed(1)} MB`).toBeLessThan(64 * MB);
  });
});
