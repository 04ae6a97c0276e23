/**
 * kill -9 cycles: the replicator killed at random moments while an app commits numbered
 * transactions at full speed, to a file replica and to s3rver. Quick counts here; the long
 * run is bench/reliability.mjs.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_S3_ENV } from '../helpers/credentials.js';
import { type S3rver, useS3rver } from '../helpers/s3rver.js';
import { tmpDir } from '../helpers/tmp.js';
import { count, killCycles } from './harness.js';

const CYCLES = count('KILL_CYCLES', 4);
/**
 * PAUSE_MS: the writer's pause after each transaction. The quick run writes at full speed;
 * the long run (bench/reliability.mjs) pauses, or the database would grow by gigabytes
 * over its cycles and each cycle's new snapshot with it.
 */
const PAUSE_MS = count('WRITER_PAUSE_MS', 0, true);
/**
 * TIMEOUT_MS is generous: with transactions of up to 100 rows at full speed the database
 * grows by megabytes a second, and every cycle after a kill -9 uploads a new generation's
 * snapshot of it (docs/writers.md): on a busy machine a cycle can take half a minute.
 */
const TIMEOUT_MS = 120_000 + CYCLES * 45_000;
let s3: S3rver;
useS3rver('bkt', (started) => (s3 = started));

describe('kill -9 of the replicator at random moments', () => {
  it.each([
    ['file', 1],
    ['file', 100],
    ['s3', 1],
    ['s3', 100],
  ] as const)('%s replica, transactions of up to %i rows: every restore whole, the last one exact', async (kind, maxRows) => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    const url = kind === 'file' ? `file://${path.join(dir, 'replica')}` : `s3://bkt/kill-${maxRows}/app.db?endpoint=${encodeURIComponent(s3.endpoint)}`;
    const stored = kind === 's3' ? path.join(s3.dir, 'bkt', `kill-${maxRows}`) : undefined;
    const report = await killCycles(db, { url, env: TEST_S3_ENV, stored }, { cycles: CYCLES, maxRows, upMs: [100, 2500], restoreEvery: 2, pauseMs: PAUSE_MS });
    console.log(`kill cycles (${kind}, up to ${maxRows} rows): ${JSON.stringify(report)}`);
    expect(report.problems).toEqual([]);
    expect(report.cycles).toBe(CYCLES);
    expect(report.restored).toBe(report.committed);
    expect(report.committed).toBeGreaterThan(0);
    expect(report.restores).toBe(Math.floor(CYCLES / 2));
  }, TIMEOUT_MS);
});
