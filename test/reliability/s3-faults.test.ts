/**
 * S3 fault cycles: `lifeboat replicate` runs through a TCP fault proxy to s3rver while an
 * app commits numbered transactions; each cycle injects one fault (a reset mid-body, a
 * blackhole, 503 SlowDown answers, 300 ms of latency, an outage) and waits until uploads
 * resume. Afterwards a graceful stop must leave a replica that restores every committed
 * transaction, and the replicator's memory must not grow across the cycles. Quick counts
 * here; the long run (50+ cycles, 30 s outages) is bench/reliability.mjs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_S3_ENV } from '../helpers/credentials.js';
import { startReplicate } from '../helpers/replicate.js';
import { type S3rver, useS3rver } from '../helpers/s3rver.js';
import { startProxy } from '../helpers/tcp-proxy.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';
import { count, restoreAndVerify, startWriter } from './harness.js';

const CYCLES = count('FAULT_CYCLES', 5);
const OUTAGE_MS = count('OUTAGE_MS', 1500);
/**
 * MEMORY_CYCLES: memory is judged on runs at least this long — the median resident size
 * of the last 10 cycles against that of cycles 10–19 (the first ones warm the heap up),
 * within 10 MB. Shorter runs (the quick one in npm test) report it only.
 */
const MEMORY_CYCLES = 30;
const FAULTS = ['reset', 'blackhole', 'slowdown', 'latency', 'outage'] as const;
let s3: S3rver;
useS3rver('bkt', (started) => (s3 = started));

/** rssMB reads a process's resident memory (VmRSS) in MB. */
function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

describe('S3 faults between the replicator and the store', () => {
  it(`${CYCLES} fault cycles: uploads resume after each, the final restore is exact${CYCLES >= MEMORY_CYCLES ? ', memory stays flat' : ''}`, async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    const prefix = 'faults/app.db';
    const proxy = await startProxy({ host: '127.0.0.1', port: s3.port });
    const viaProxy = `s3://bkt/${prefix}?endpoint=${encodeURIComponent(`http://127.0.0.1:${proxy.port}`)}`;
    const direct = { url: `s3://bkt/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}`, env: TEST_S3_ENV };
    const writer = await startWriter(db, 20, 2);
    // A generous final-sync bound: this checks the data after the faults, not the stop time.
    const rep = startReplicate(['-shutdown-sync-timeout', '120s', db, viaProxy], TEST_S3_ENV);
    const output = () => rep.lines.slice(-20).join('\n');
    const walPuts = async () => (await s3.requests()).filter((r) => r.method === 'PUT' && r.key.includes('/wal/')).length;
    const rss: number[] = [];
    let done = false;
    try {
      await rep.waitFor(/replicating/, 30_000);
      for (let i = 0; i < CYCLES; i++) {
        const fault = FAULTS[i % FAULTS.length];
        const hold = 200 + Math.floor(Math.random() * 1000);
        if (fault === 'reset') {
          const before = proxy.resets();
          proxy.resetAfter(1 + Math.floor(Math.random() * 2_000));
          await waitUntil(() => proxy.resets() > before, { what: `cycle ${i}: a reset mid-transfer`, detail: output });
        } else if (fault === 'blackhole') {
          proxy.blackhole();
          await new Promise((resolve) => setTimeout(resolve, hold));
          proxy.restore();
        } else if (fault === 'slowdown') {
          await s3.failNext({ count: 3, status: 503, code: 'SlowDown' });
        } else if (fault === 'latency') {
          proxy.setLatency(300);
          await new Promise((resolve) => setTimeout(resolve, hold));
          proxy.setLatency(0);
        } else {
          proxy.cut();
          await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
          proxy.restore();
        }
        // Uploads resume: a WAL segment lands after the fault is over.
        const puts = await walPuts();
        await waitUntil(async () => (await walPuts()) > puts, { what: `cycle ${i} (${fault}): a WAL upload after the fault`, timeoutMs: 120_000, detail: output });
        rss.push(rssMB(rep.proc.pid!));
        console.log(`s3 fault cycle ${i + 1}/${CYCLES} (${fault}): uploads resumed; replicator ${Math.round(rss[rss.length - 1])} MB`);
      }
      done = true;
    } finally {
      proxy.restore();
      proxy.setLatency(0);
      if (!done) {
        writer.kill();
        rep.proc.kill('SIGKILL');
        await proxy.close();
      }
    }
    const committed = await writer.stop();
    const { exitCode } = await rep.stop();
    await proxy.close();
    expect(exitCode, output()).toBe(0);
    const v = await restoreAndVerify(direct);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const growth = CYCLES >= MEMORY_CYCLES ? median(rss.slice(-10)) - median(rss.slice(10, 20)) : undefined;
    console.log(`s3 fault cycles: ${JSON.stringify({ cycles: CYCLES, committed, restored: v.transactions, problem: v.problem, rssMB: rss.map((m) => Math.round(m)), growthMB: growth === undefined ? 'not judged' : Math.round(growth) })}`);
    expect(v.problem).toBeUndefined();
    expect(v.transactions).toBe(committed);
    if (growth !== undefined) expect(growth).toBeLessThanOrEqual(10);
  }, 120_000 + CYCLES * 150_000);
});
