import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/replicator/lz4/frame.js';
import { WAL_HEADER_SIZE, parseWALHeader, scanFrames } from '../../src/replicator/wal.js';
import { captureOutput } from '../helpers/capture.js';
import { CLI, lifeboat } from '../helpers/cli.js';
import { runWriter, startReplicate, WRITER } from '../helpers/replicate.js';
import { pollsFd } from '../helpers/procs.js';
import { integrityCheck, openWAL, rowsDigest } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { onPath } from '../helpers/tools.js';
import { waitUntil } from '../helpers/wait.js';

/** haveLz4: the lz4 CLI checks our frames independently where it is installed; our decoder otherwise. */
const haveLz4 = onPath('lz4');
const SNAPSHOT_RE = /^([0-9a-f]{8})\.snapshot\.lz4$/;
const SEGMENT_RE = /^([0-9a-f]{8})_([0-9a-f]{8})\.wal\.lz4$/;

/** listTree returns every file under `root`, relative. */
function listTree(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

function generationsOf(replica: string): string[] {
  return fs.readdirSync(path.join(replica, 'generations')).sort();
}

async function restoreTo(replica: string, out: string): Promise<void> {
  const replicaURL = replica.startsWith('file://') ? replica : `file://${replica}`;
  const res = await lifeboat(['restore', '-o', out, replicaURL]);
  expect(res.exitCode, String(res.all)).toBe(0);
}

/**
 * restoresEqual restores `replica` to `dir`/out.db and checks the result: integrity ok and
 * every row equal to `db`. Returns the restored row count.
 */
async function restoresEqual(dir: string, replica: string, db: string): Promise<number> {
  const out = path.join(dir, 'out.db');
  await restoreTo(replica, out);
  expect(integrityCheck(out)).toBe('ok');
  const restored = rowsDigest(out);
  expect(restored).toEqual(rowsDigest(db));
  return restored.rows;
}

/** endStartPipe closes the `-start-fd 4` pipe of a replicate process, after `line` if given. */
function endStartPipe(proc: { stdio: unknown[] }, line?: string): void {
  (proc.stdio[4] as Writable).end(line);
}

/** newDatabase creates a WAL-mode database `app.db` in a fresh directory, beside the replica path `r`. */
function newDatabase(): { dir: string; db: string; replica: string } {
  const dir = tmpDir();
  const db = path.join(dir, 'app.db');
  openWAL(db).close();
  return { dir, db, replica: path.join(dir, 'r') };
}

/** startReplicateDebug runs `replicate` on db → replica with debug logging (from a config in dir), once it is replicating. */
async function startReplicateDebug(dir: string, db: string, replica: string): Promise<ReturnType<typeof startReplicate>> {
  const cfg = path.join(dir, 'lifeboat.yml');
  fs.writeFileSync(cfg, `logging:\n  level: debug\ndbs:\n  - path: ${db}\n    replicas:\n      - path: ${replica}\n`);
  const rep = startReplicate(['-config', cfg]);
  await rep.waitFor(/replicating/);
  return rep;
}

describe('lifeboat replicate (file replica)', () => {
  it('replicates 1,000 transactions from another process; SIGTERM; restore equals the source', async () => {
    const { dir, db, replica } = newDatabase();
    const rep = startReplicate([db, `file://${replica}`]);
    await rep.waitFor(/replicating/);
    await runWriter(db, 1000);
    const { exitCode, output } = await rep.stop();
    expect(exitCode, output).toBe(0);
    expect(output).toMatch(/final sync complete/);
    expect(await restoresEqual(dir, `file://${replica}`, db)).toBe(1000);
  });

  it('writes the spec layout: names match, every .lz4 decodes with lz4 -dc, each index concatenates to a valid WAL', async () => {
    const { dir, db, replica } = newDatabase();
    const cfg = path.join(dir, 'lifeboat.yml');
    fs.writeFileSync(cfg, `dbs:\n  - path: ${db}\n    min-checkpoint-page-count: 50\n    max-checkpoint-page-count: 100\n    replicas:\n      - path: ${replica}\n`);
    const rep = startReplicate(['-config', cfg]);
    await rep.waitFor(/replicating/);
    await runWriter(db, 300, 0, 2000);
    // ~300 pages of WAL, past max-checkpoint-page-count: our checkpoint restarts the WAL,
    // and the stop must come after it (a busy machine may run it only after the writer ended).
    // The replica directory appears with the first upload, which may come after this first look.
    const indexes = () =>
      fs.existsSync(replica) ? new Set(listTree(replica).filter((f) => f.split(path.sep)[2] === 'wal').map((f) => SEGMENT_RE.exec(path.basename(f))?.[1])).size : 0;
    // When the first snapshot comes after our first checkpoint (a busy machine), it holds
    // index 0 and only later indexes get segments: write on until two of them have some.
    const twoIndexes = async (): Promise<boolean> => {
      if (indexes() >= 2) return true;
      await runWriter(db, 100, 0, 2000);
      return false;
    };
    await waitUntil(twoIndexes, { what: 'segments of two WAL indexes (our checkpoint between them)', intervalMs: 200, detail: () => rep.lines.slice(-10).join('\n') });
    expect((await rep.stop()).exitCode).toBe(0);
    const files = listTree(replica);
    const byIndex = new Map<string, { offset: number; file: string }[]>();
    for (const f of files) {
      const parts = f.split(path.sep);
      expect(parts[0]).toBe('generations');
      expect(parts[1]).toMatch(/^[0-9a-f]{16}$/);
      if (parts[2] === 'claims') {
        // The writer's claim and its release (docs/writers.md): not LZ4, ignored by Litestream.
        expect(parts[3]).toMatch(/^[0-9a-f]{8}_[0-9a-f]{8}\.[0-9a-f]{16}\.(claim|[0-9a-f]{8}_[0-9a-f]{8}\.released)$/);
        continue;
      }
      if (parts[2] === 'snapshots') {
        expect(parts[3]).toMatch(SNAPSHOT_RE);
      } else {
        expect(parts[2]).toBe('wal');
        const m = SEGMENT_RE.exec(parts[3]);
        expect(m, f).not.toBeNull();
        const key = `${parts[1]}/${m![1]}`;
        byIndex.set(key, [...(byIndex.get(key) ?? []), { offset: parseInt(m![2], 16), file: f }]);
      }
      const raw = path.join(replica, f);
      expect(fs.readFileSync(raw).subarray(0, 4).toString('hex')).toBe('04224d18');
      if (haveLz4) execFileSync('lz4', ['-t', raw], { stdio: 'ignore' });
    }
    expect(byIndex.size).toBeGreaterThanOrEqual(2);
    for (const [key, segs] of byIndex) {
      segs.sort((a, b) => a.offset - b.offset);
      expect(segs[0].offset, `${key} starts at offset 0`).toBe(0);
      let wal = Buffer.alloc(0);
      for (const s of segs) {
        expect(s.offset, `${key} segment continuity`).toBe(wal.length);
        const file = path.join(replica, s.file);
        wal = Buffer.concat([wal, haveLz4 ? execFileSync('lz4', ['-dc', file], { maxBuffer: 1 << 30 }) : decodeFrame(fs.readFileSync(file))]);
      }
      const hdr = parseWALHeader(wal);
      expect(hdr, key).toBeDefined();
      const scan = scanFrames(hdr!, wal.subarray(WAL_HEADER_SIZE), [hdr!.checksum1, hdr!.checksum2]);
      expect(scan.commitEnd, `${key} is whole committed frames`).toBe(wal.length - WAL_HEADER_SIZE);
    }
  });

  it('continues the same generation after a clean stop and restart, without a new snapshot', async () => {
    const { dir, db, replica } = newDatabase();
    let rep = startReplicate([db, replica]);
    await rep.waitFor(/replicating/);
    await runWriter(db, 100);
    expect((await rep.stop()).exitCode).toBe(0);
    const gens = generationsOf(replica);
    expect(gens).toHaveLength(1);
    const snapshots = () => fs.readdirSync(path.join(replica, 'generations', gens[0], 'snapshots'));
    expect(snapshots()).toHaveLength(1);
    rep = startReplicate([db, replica]);
    await rep.waitFor(/replicating/);
    await runWriter(db, 100);
    const second = await rep.stop();
    expect(second.exitCode).toBe(0);
    expect(second.output).not.toMatch(/new generation/);
    expect(generationsOf(replica)).toEqual(gens);
    expect(snapshots()).toHaveLength(1);
    await restoresEqual(dir, replica, db);
  });

  it('starts a new generation after an outside TRUNCATE checkpoint made while stopped', async () => {
    const { dir, db, replica } = newDatabase();
    let rep = startReplicate([db, replica]);
    await rep.waitFor(/replicating/);
    await runWriter(db, 50);
    expect((await rep.stop()).exitCode).toBe(0);
    const app = openWAL(db);
    app.prepare('INSERT INTO t (v) VALUES (?)').run('written while stopped');
    app.pragma('wal_checkpoint(TRUNCATE)');
    app.prepare('INSERT INTO t (v) VALUES (?)').run('after the checkpoint');
    rep = startReplicate([db, replica]);
    await rep.waitFor(/replicating/);
    const second = await rep.stop();
    app.close();
    expect(second.exitCode).toBe(0);
    expect(second.output).toMatch(/new generation .*reason=/);
    expect(generationsOf(replica)).toHaveLength(2);
    expect(await restoresEqual(dir, replica, db)).toBe(52);
  });

  it('steps aside for a fast writer: its own checkpoints restart the WAL, the generation continues, restore equals the source', async () => {
    const { dir, db, replica } = newDatabase();
    const rep = await startReplicateDebug(dir, db, replica);
    await runWriter(db, 30_000);
    const { exitCode, output } = await rep.stop();
    expect(exitCode, output).toBe(0);
    expect(output).toMatch(/stepped aside .*restarted=true/);
    // On a loaded machine a hand-over can come too late (docs/replication.md, "We step
    // aside"): the only other generation allowed is one of those, with its own snapshot.
    const news = output.split('\n').filter((l) => l.includes('new generation'));
    expect(news.length, output).toBeGreaterThanOrEqual(1);
    for (const l of news.slice(1)) expect(l).toMatch(/reason="?wal (overwritten by another process|restarted more than once between syncs)/);
    const gens = generationsOf(replica);
    expect(gens).toHaveLength(news.length);
    for (const g of gens) expect(fs.readdirSync(path.join(replica, 'generations', g, 'snapshots'))).toHaveLength(1);
    expect(await restoresEqual(dir, replica, db)).toBe(30_000);
  });

  it('checkpoints itself for a fast writer without autocheckpoints: the step-aside finds no restart, our own checkpoint runs', async () => {
    const { dir, db, replica } = newDatabase();
    const rep = await startReplicateDebug(dir, db, replica);
    await runWriter(db, 30_000, 0, 100, 0);
    // Our restart needs a moment without the writer's lock: on a loaded machine it may come
    // only once the writer is done.
    await rep.waitFor(/wal restarted/, 30_000);
    const { exitCode, output } = await rep.stop();
    expect(exitCode, output).toBe(0);
    expect(output).toMatch(/stepped aside .*restarted=false early=false/);
    // PASSIVE at min-checkpoint-page-count; RESTART when a loaded machine let the WAL pass
    // max-checkpoint-page-count first (the spec's rule): either way ours.
    expect(output).toMatch(/checkpoint .*mode=(PASSIVE|RESTART)/);
    expect(output).toMatch(/wal restarted/);
    expect(output.match(/new generation/g)).toHaveLength(1);
    expect(generationsOf(replica)).toHaveLength(1);
    expect(await restoresEqual(dir, replica, db)).toBe(30_000);
  });

  it('keeps every row of an app that commits and exits within 100 ms of replicate starting', async () => {
    const { dir, db, replica } = newDatabase();
    const rep = startReplicate([db, replica]);
    const started = Date.now();
    await execa(process.execPath, [WRITER, db, '20']);
    expect(Date.now() - started).toBeLessThan(2000);
    await rep.waitFor(/replicating/);
    const { exitCode } = await rep.stop();
    expect(exitCode).toBe(0);
    expect(await restoresEqual(dir, replica, db)).toBe(20);
  });

  it('says once, naming the path, that it waits for a database file that does not exist yet', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'app.db');
    const rep = startReplicate([db, path.join(dir, 'r')]);
    const waiting = `INFO database file does not exist yet: waiting for it to be created (e.g. by the app) db=${db}`;
    expect(await rep.waitFor(/does not exist yet/)).toBe(waiting);
    await runWriter(db, 5);
    await rep.waitFor(/INFO opened /);
    const { exitCode, output } = await rep.stop();
    expect(exitCode, output).toBe(0);
    expect(output.split('\n').filter((l) => l.includes('does not exist yet'))).toEqual([waiting]);
  });

  it('names a missing directory too: a mistyped database path shows', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'typo', 'app.db');
    const rep = startReplicate([db, path.join(dir, 'r')]);
    expect(await rep.waitFor(/does not exist yet/)).toBe(
      `INFO database file does not exist yet (nor its directory): waiting for it to be created (e.g. by the app) db=${db}`,
    );
    expect((await rep.stop()).exitCode).toBe(0);
  });

  it('continues the restored generation after a restore on an empty disk, without a new snapshot', async () => {
    const { dir, db, replica } = newDatabase();
    const cfg = path.join(dir, 'lifeboat.yml');
    fs.writeFileSync(cfg, `dbs:\n  - path: ${db}\n    replicas:\n      - path: ${replica}\n`);
    let rep = startReplicate(['-config', cfg]);
    await rep.waitFor(/replicating/);
    await runWriter(db, 100);
    expect((await rep.stop()).exitCode).toBe(0);
    const [gen] = generationsOf(replica);
    // A new machine: the disk is empty; restore on boot, then replicate again.
    for (const p of [db, `${db}-wal`, `${db}-shm`, path.join(dir, '.app.db-litestream')]) fs.rmSync(p, { recursive: true, force: true });
    const restored = await lifeboat(['restore', '-config', cfg, db]);
    expect(restored.exitCode, String(restored.all)).toBe(0);
    rep = startReplicate(['-config', cfg]);
    await rep.waitFor(/replicating/);
    await runWriter(db, 50);
    const second = await rep.stop();
    expect(second.exitCode, second.output).toBe(0);
    expect(second.output).toMatch(/continuing the restored generation/);
    expect(second.output).not.toMatch(/new generation|taking snapshot/);
    expect(generationsOf(replica)).toEqual([gen]);
    expect(fs.readdirSync(path.join(replica, 'generations', gen, 'snapshots'))).toHaveLength(1);
    expect(await restoresEqual(dir, replica, db)).toBe(150);
  });

  it('starts a new generation when the restored database changed before replicate started', async () => {
    const { dir, db, replica } = newDatabase();
    const cfg = path.join(dir, 'lifeboat.yml');
    fs.writeFileSync(cfg, `dbs:\n  - path: ${db}\n    replicas:\n      - path: ${replica}\n`);
    let rep = startReplicate(['-config', cfg]);
    await rep.waitFor(/replicating/);
    await runWriter(db, 20);
    expect((await rep.stop()).exitCode).toBe(0);
    for (const p of [db, `${db}-wal`, `${db}-shm`, path.join(dir, '.app.db-litestream')]) fs.rmSync(p, { recursive: true, force: true });
    expect((await lifeboat(['restore', '-config', cfg, db])).exitCode).toBe(0);
    // The app writes and closes (SQLite checkpoints into the file) before the replicator starts.
    await runWriter(db, 5);
    rep = startReplicate(['-config', cfg]);
    await rep.waitFor(/replicating/);
    const second = await rep.stop();
    expect(second.output).toMatch(/new generation .*reason="no generation exists"/);
    expect(generationsOf(replica)).toHaveLength(2);
    await restoresEqual(dir, replica, db);
  });

  it('takes snapshots every snapshot-interval and enforces retention: old snapshots and the segments below the oldest kept one go', async () => {
    const { dir, db, replica } = newDatabase();
    const cfg = path.join(dir, 'lifeboat.yml');
    fs.writeFileSync(
      cfg,
      [
        'dbs:',
        `  - path: ${db}`,
        '    min-checkpoint-page-count: 20',
        '    replicas:',
        `      - path: ${replica}`,
        '        snapshot-interval: 700ms',
        '        retention: 2s',
        '        retention-check-interval: 500ms',
      ].join('\n'),
    );
    const rep = startReplicate(['-config', cfg]);
    await rep.waitFor(/replicating/);
    await runWriter(db, 120, 40, 1000);
    await rep.waitFor(/INFO retention /);
    const { exitCode, output } = await rep.stop();
    expect(exitCode, output).toBe(0);
    const [gen] = generationsOf(replica);
    const snapDir = path.join(replica, 'generations', gen, 'snapshots');
    const snaps = fs.readdirSync(snapDir).map((n) => parseInt(n, 16));
    const written = output.split('\n').filter((l) => l.includes('snapshot written')).length;
    expect(written).toBeGreaterThanOrEqual(4);
    expect(snaps.length).toBeLessThan(written);
    const oldest = Math.min(...snaps);
    expect(oldest).toBeGreaterThan(0);
    const segIndexes = fs.readdirSync(path.join(replica, 'generations', gen, 'wal')).map((n) => parseInt(n.slice(0, 8), 16));
    expect(Math.min(...segIndexes)).toBe(oldest);
    await restoresEqual(dir, replica, db);
  });

  it('a second signal right as the first is acknowledged ends it through the handler (exit 0 or 1), never by the signal', async () => {
    for (let round = 0; round < 3; round++) {
      const { db, replica } = newDatabase();
      const rep = startReplicate([db, `file://${replica}`]);
      await rep.waitFor(/replicating/);
      rep.proc.kill('SIGTERM');
      await rep.waitFor(/signal received, final sync/);
      rep.proc.kill('SIGTERM');
      const res = await rep.proc;
      expect(res.signal, rep.lines.join('\n')).toBeUndefined();
      expect([0, 1]).toContain(res.exitCode);
    }
  });

  it('-start-fd: loads, then waits; end of file there exits 0 having touched nothing, a line starts it', async () => {
    const { dir, db, replica } = newDatabase();
    const stdio = ['ignore', 'pipe', 'pipe', 'ignore', 'pipe'] as const;
    const idle = execa(process.execPath, [CLI, 'replicate', '-start-fd', '4', db, `file://${replica}`], { stdio, reject: false });
    captureOutput(idle, 'lifeboat-replicate');
    await waitUntil(() => idle.exitCode !== null || (idle.pid !== undefined && pollsFd(idle.pid, 4)), { what: 'replicate to wait on descriptor 4' });
    expect(idle.exitCode).toBeNull();
    endStartPipe(idle);
    const quit = await idle;
    expect(quit.exitCode, quit.stderr).toBe(0);
    expect(quit.stderr).toBe('');
    expect(fs.readdirSync(dir).sort()).toEqual(['app.db']);

    const started = execa(process.execPath, [CLI, 'replicate', '-start-fd', '4', db, `file://${replica}`], { stdio, reject: false });

    captureOutput(started, 'lifeboat-replicate');
    endStartPipe(started, 'start\n');
    await waitUntil(() => fs.existsSync(path.join(replica, 'generations')), { what: 'the started replicator to create the replica' });
    started.kill('SIGTERM');
    const res = await started;
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/final sync complete/);
  });

  it('-start-fd: a bad config is reported only when started (exit 2), never when let go', async () => {
    const dir = tmpDir();
    const cfg = path.join(dir, 'bad.yml');
    fs.writeFileSync(cfg, 'dbs:\n  - path: /x.db\n    replicas:\n      - path: /r\n        sync-interval: 5 seconds\n');
    const stdio = ['ignore', 'pipe', 'pipe', 'ignore', 'pipe'] as const;
    const letGo = execa(process.execPath, [CLI, 'replicate', '-config', cfg, '-start-fd', '4'], { stdio, reject: false });
    captureOutput(letGo, 'lifeboat-replicate');
    endStartPipe(letGo);
    const quiet = await letGo;
    expect([quiet.exitCode, quiet.stderr]).toEqual([0, '']);
    const started = execa(process.execPath, [CLI, 'replicate', '-config', cfg, '-start-fd', '4'], { stdio, reject: false });
    captureOutput(started, 'lifeboat-replicate');
    endStartPipe(started, 'start\n');
    const res = await started;
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('invalid duration "5 seconds"');
  });

  it('refuses a file that is not SQLite with a clear error and exit 1', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'notes.txt');
    fs.writeFileSync(db, 'just some text, definitely not a database, but longer than one hundred bytes. '.repeat(3));
    const res = await lifeboat(['replicate', db, path.join(dir, 'r')]);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/not a SQLite database/);
    expect(res.stderr).not.toMatch(/wal/i);
  });

  it('exits 2 with usage on an unknown flag', async () => {
    const res = await lifeboat(['replicate', '-bogus']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/unknown flag: -bogus/);
  });

  it.each([
    [['/tmp/app.db'], 'lifeboat replicate: need DB_PATH and at least one REPLICA_URL'],
    [['-config', '/nonexistent.yml', '/tmp/app.db', 'file:///tmp/r'], 'lifeboat replicate: -config cannot be combined with DB_PATH REPLICA_URL'],
    [['-exec', '', '/tmp/app.db', 'file:///tmp/r'], 'lifeboat replicate: empty -exec command ""'],
    [['-exec', 'node "x', '/tmp/app.db', 'file:///tmp/r'], /^lifeboat replicate: invalid -exec: /],
  ])('names the command once in a usage error: %j', async (argv, message) => {
    const res = await lifeboat(['replicate', ...argv]);
    expect(res.exitCode).toBe(2);
    const line = String(res.stderr).split('\n')[0];
    if (typeof message === 'string') expect(line).toBe(message);
    else expect(line).toMatch(message);
    expect(line).not.toContain('replicate: replicate:');
  });
});
