import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startReplicate, type Running } from '../helpers/replicate.js';
import { openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

/** Segment is a WAL segment of the replica: its [start, end) in the WAL and when it appeared. */
interface Segment {
  index: number;
  start: number;
  end: number;
  at: number;
}

/** Commit is one of the app's commits: when it returned and where the WAL ended then. */
interface Commit {
  at: number;
  end: number;
}

/** staleness is how old the first commit a segment arriving at `seg.at` left out was (0: none). */
function staleness(seg: Segment, arrived: Segment[], commits: Commit[]): number {
  const covered = Math.max(...arrived.filter((s) => s.at <= seg.at).map((s) => s.end));
  const missed = commits.find((c) => c.end > covered);
  return missed && missed.at < seg.at ? seg.at - missed.at : 0;
}

describe('replicate under a sync-interval', () => {
  let rep: Running | undefined;
  afterEach(async () => {
    await rep?.stop();
    rep = undefined;
  });

  it('ships every commit made before an upload starts, not only those of its last regular look', { timeout: 60_000 }, async () => {
    const dir = tmpDir();
    const dbPath = path.join(dir, 'app.db');
    const replica = path.join(dir, 'replica');
    const app = openWAL(dbPath);
    app.pragma('wal_autocheckpoint = 0');
    // No checkpoint while the app writes (neither the app's nor ours), so the WAL only
    // grows and its size after a commit is that commit's end offset. The sync-interval is
    // not a multiple of the regular looks' period (250 ms) nor of the monitor-interval's
    // (1 s), whose looks would otherwise often fall just before an upload anyway.
    const config = path.join(dir, 'lifeboat.yml');
    fs.writeFileSync(
      config,
      `dbs:\n  - path: ${dbPath}\n    min-checkpoint-page-count: 100000\n    checkpoint-interval: 1h\n    replicas:\n      - path: ${replica}\n        sync-interval: 1300ms\n`,
    );
    const arrived: Segment[] = [];
    fs.mkdirSync(replica, { recursive: true });
    const watcher = fs.watch(replica, { recursive: true }, (_event, name) => {
      const m = name ? /(?:^|\/)([0-9a-f]{8})_([0-9a-f]{8})\.wal\.lz4$/.exec(String(name)) : null;
      if (!m || arrived.some((s) => s.index === parseInt(m[1], 16) && s.start === parseInt(m[2], 16))) return;
      arrived.push({ index: parseInt(m[1], 16), start: parseInt(m[2], 16), end: -1, at: Date.now() });
    });
    try {
      rep = startReplicate(['-config', config]);
      await rep.waitFor(/snapshot written/);
      const salt = () => fs.readFileSync(`${dbPath}-wal`).subarray(16, 24).toString('hex');
      const firstSalt = salt();
      const commits: Commit[] = [];
      const ins = app.prepare('INSERT INTO t (v) VALUES (?)');
      const writingFrom = Date.now();
      for (let i = 0; Date.now() - writingFrom < 11_000; i++) {
        ins.run(`row ${i}`.padEnd(100, 'x'));
        commits.push({ at: Date.now(), end: fs.statSync(`${dbPath}-wal`).size });
        // Now and then a pause long enough for the replicator to call the database quiet
        // (wake.ts): its regular looks then start again at a new moment, unrelated to
        // when the next upload is due.
        await sleep(i % 97 === 96 ? 400 : 10);
      }
      expect(salt(), 'the WAL restarted while the app wrote: this test needs it to only grow').toBe(firstSalt);
      const last = commits[commits.length - 1].end;
      const segmentsEnd = () => Math.max(...arrived.map((s) => s.start + segmentLength(replica, s)));
      await waitUntil(() => arrived.length > 0 && segmentsEnd() >= last, { what: 'the replica to hold the last commit' });
      for (const s of arrived) s.end = s.start + segmentLength(replica, s);
      const during = arrived.filter((s) => s.at > writingFrom + 1_500 && s.at <= commits[commits.length - 1].at);
      expect(during.length, `segments while the app wrote: ${JSON.stringify(arrived)}`).toBeGreaterThanOrEqual(5);
      expect(new Set(during.map((s) => s.index)).size).toBe(1);
      // Each upload is preceded by a look of its own, so what a segment leaves out is only
      // what was committed while it was being written: a few ms. Without that look it
      // would leave out up to a regular poll's worth (250 ms; measured: a median of ~170 ms).
      const stale = during.map((s) => staleness(s, arrived, commits)).sort((a, b) => a - b);
      expect(stale[Math.floor(stale.length / 2)], `staleness of each segment, ms: ${stale.join(', ')}`).toBeLessThan(60);
    } finally {
      watcher.close();
      app.close();
    }
  });
});

/** segmentLength is the decoded length of a segment (`lz4 -dc`). */
function segmentLength(replica: string, s: Segment): number {
  const name = `${s.index.toString(16).padStart(8, '0')}_${s.start.toString(16).padStart(8, '0')}.wal.lz4`;
  const found = execFileSync('find', [replica, '-name', name], { encoding: 'utf8' }).trim().split('\n')[0];
  return execFileSync('lz4', ['-dc', found], { maxBuffer: 1 << 28 }).length;
}
