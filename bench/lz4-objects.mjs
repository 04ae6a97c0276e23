// bench/lz4-objects: LZ4 decode speed on a real replica's stored objects (every `.lz4`
// file under the directories given), as restore decodes them, next to the native codec
// lz4-napi when it is installed (it is not a dependency: `npm install --no-save lz4-napi`
// to compare). Run `npm run build` first, then
//   node bench/lz4-objects.mjs REPLICA_DIR...
// One JSON line per codec: objects, stored and raw MB, and over ROUNDS passes over every
// object (in memory, read beforehand) the median wall time and the median CPU time (user +
// system: steadier on a busy machine), each with MB/s of raw output.
//   - js: restore's decoder (borrowed blocks, fed 1 MiB chunks, no content checksum: the
//     WAL checksums cover every byte of a segment);
//   - js+checksum: the same, verifying the frames' content checksums (as for a snapshot);
//   - lz4-napi: decompressFrameSync, one call per object (its only frame API: the whole
//     object in, the whole output back).
import fs from 'node:fs';
import path from 'node:path';
import { FrameReader } from '../dist/replicator/lz4/index.js';

const ROUNDS = 7;
const CHUNK = 1 << 20;

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: node bench/lz4-objects.mjs REPLICA_DIR...');
  process.exit(2);
}

/** objects lists every .lz4 file under dir. */
function objects(dir) {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.lz4'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** jsDecode decodes one object as restore does; returns the raw length. */
function jsDecode(data, verifyContentChecksum) {
  const r = new FrameReader({ verifyContentChecksum, borrow: true });
  let n = 0;
  for (let off = 0; off < data.length; off += CHUNK) {
    r.feed(data.subarray(off, off + CHUNK));
    for (let b = r.next(); b !== null; b = r.next()) n += b.length;
  }
  r.end();
  return n;
}

/** native loads lz4-napi's decoder, or undefined when it is not installed. */
async function native() {
  try {
    const { decompressFrameSync } = await import('lz4-napi');
    return (data) => decompressFrameSync(data).length;
  } catch {
    console.error('bench/lz4-objects: lz4-napi is not installed; measuring the JS decoder alone');
    return undefined;
  }
}

const bufs = dirs.flatMap(objects).map((f) => fs.readFileSync(f));
const stored = bufs.reduce((a, b) => a + b.length, 0);
const napi = await native();
const codecs = [
  ['js', (b) => jsDecode(b, false)],
  ['js+checksum', (b) => jsDecode(b, true)],
  ...(napi ? [['lz4-napi', napi]] : []),
];
for (const [codec, decode] of codecs) {
  const wall = [];
  const cpu = [];
  let raw = 0;
  // One warm-up pass, then ROUNDS measured ones.
  for (let k = 0; k <= ROUNDS; k++) {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    raw = 0;
    for (const b of bufs) raw += decode(b);
    const used = process.cpuUsage(c);
    if (k === 0) continue;
    wall.push(Number(process.hrtime.bigint() - t) / 1e6);
    cpu.push((used.user + used.system) / 1000);
  }
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  const [w, c] = [median(wall), median(cpu)];
  console.log(JSON.stringify({
    codec, objects: bufs.length, stored_mb: +(stored / 1e6).toFixed(1), raw_mb: +(raw / 1e6).toFixed(1),
    wall_ms: +w.toFixed(1), wall_mb_per_s: Math.round(raw / 1e6 / (w / 1000)),
    cpu_ms: +c.toFixed(1), cpu_mb_per_s: Math.round(raw / 1e6 / (c / 1000)),
  }));
}
