/**
 * `lifeboat status`: what the running replicator reports on its control socket, and what the
 * replica holds when none runs, matched against the replica's own files; exit codes 0
 * (healthy), 1 (a replica behind by more than max-lag), 2 (no replicator answered).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/replicator/lz4/index.js';
import type { StatusDoc } from '../../src/replicator/status.js';
import { lifeboat } from '../helpers/cli.js';
import { runWriter, startReplicate } from '../helpers/replicate.js';
import { openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

/** setup writes a config replicating `app.db` to a file replica named `backup` at `replica`. */
function setup(replica?: string): { dir: string; db: string; replica: string; config: string; socket: string } {
  const dir = tmpDir('lb-st-');
  const db = path.join(dir, 'app.db');
  const rep = replica ?? path.join(dir, 'r');
  openWAL(db).close();
  const config = path.join(dir, 'lifeboat.yml');
  fs.writeFileSync(config, `dbs:\n  - path: ${db}\n    monitor-interval: 100ms\n    replicas:\n      - name: backup\n        path: ${rep}\n`);
  return { dir, db, replica: rep, config, socket: path.join(dir, '.app.db-lifeboat.sock') };
}

/** replicaEnd is what the replica holds: its generation and where its newest segment ends. */
function replicaEnd(replica: string): { generation: string; index: number; offset: number } {
  const gens = fs.readdirSync(path.join(replica, 'generations'));
  expect(gens).toHaveLength(1);
  const dir = path.join(replica, 'generations', gens[0], 'wal');
  const last = fs.readdirSync(dir).sort().at(-1)!;
  const [, index, offset] = /^([0-9a-f]{8})_([0-9a-f]{8})\.wal\.lz4$/.exec(last)!;
  return { generation: gens[0], index: parseInt(index, 16), offset: parseInt(offset, 16) + decodeFrame(fs.readFileSync(path.join(dir, last))).length };
}

async function status(config: string, env: Record<string, string> = {}): Promise<{ code: number | undefined; doc: StatusDoc; all: string }> {
  const r = await lifeboat(['status', '-json', '-config', config], { env });
  let doc: StatusDoc;
  try {
    doc = JSON.parse(String(r.stdout)) as StatusDoc;
  } catch {
    throw new Error(`status -json printed no JSON (exit ${r.exitCode}):\n${String(r.all)}`);
  }
  return { code: r.exitCode, doc, all: String(r.all) };
}

describe('lifeboat status', () => {
  it('-json matches the replica while the replicator runs (exit 0) and after it stopped, read from the replica (exit 2)', async () => {
    const s = setup();
    const rep = startReplicate(['-config', s.config]);
    try {
      await rep.waitFor(/replicating/);
      await runWriter(s.db, 300, 0, 500);
      const running = await waitUntil(
        async () => {
          const st = await status(s.config);
          return st.doc.databases[0]?.replicas[0]?.caught_up ? st : undefined;
        },
        { what: 'status to say the replica caught up', detail: () => rep.lines.join('\n') },
      );
      expect(running.code, running.all).toBe(0);
      const { doc } = running;
      expect(doc).toMatchObject({ version: 1, source: 'replicator', replicator: 'running', healthy: true, problems: [], max_lag_ms: 30_000 });
      expect(doc.pid).toBe(rep.proc.pid);
      const db = doc.databases[0];
      expect(db.path).toBe(s.db);
      expect(db.state).toBe('open');
      expect(db.replicas[0]).toMatchObject({ name: 'backup', lag_ms: 0, failing: false, last_error: null, sync_errors: 0 });
      expect(db.replicas[0].position).toEqual(replicaEnd(s.replica));
      expect(db.position).toEqual(replicaEnd(s.replica));
      expect(Date.parse(db.replicas[0].last_sync!)).toBeGreaterThan(Date.now() - 60_000);
      // The socket is the owner's only, and the table form says the same.
      expect(fs.lstatSync(s.socket).mode & 0o777).toBe(0o600);
      const table = await lifeboat(['status', '-config', s.config]);
      expect(table.exitCode).toBe(0);
      expect(String(table.stdout)).toMatch(/^db +replica +generation +local +replica-pos +lag +last-sync +replicator +last-error$/m);
      const end = replicaEnd(s.replica);
      const hexPos = `${end.index.toString(16).padStart(8, '0')}:${end.offset.toString(16).padStart(8, '0')}`;
      expect(String(table.stdout)).toContain(`${s.db}  backup   ${end.generation}  ${hexPos}  ${hexPos}`);
      expect(String(table.stdout)).toMatch(/^healthy \(max-lag 30\.0s, replicator pid \d+\)$/m);
    } finally {
      const { exitCode, output } = await rep.stop();
      expect(exitCode, output).toBe(0);
    }
    // No replicator: the socket is gone, the replica and the shadow WAL are read instead.
    expect(fs.existsSync(s.socket)).toBe(false);
    const stopped = await status(s.config);
    expect(stopped.code, stopped.all).toBe(2);
    expect(stopped.doc).toMatchObject({ source: 'replica', replicator: 'not-running' });
    expect(stopped.doc.problems).toEqual([`replicator not answering for ${s.db}: no control socket ${s.socket}`]);
    const db = stopped.doc.databases[0];
    expect(db.state).toBe('unknown');
    expect(db.replicas[0]).toMatchObject({ name: 'backup', position: replicaEnd(s.replica), caught_up: true, lag_ms: null });
    expect(db.position).toEqual(replicaEnd(s.replica));
    // -no-replica (the image's HEALTHCHECK): exit 2 at once, the replica left unread.
    const quick = await lifeboat(['status', '-json', '-no-replica', '-config', s.config]);
    expect(quick.exitCode, String(quick.all)).toBe(2);
    const qdoc = JSON.parse(String(quick.stdout)) as StatusDoc;
    expect(qdoc).toMatchObject({ source: 'replica', replicator: 'not-running', healthy: false });
    expect(qdoc.databases[0]).toMatchObject({ state: 'unknown', position: null });
    expect(qdoc.databases[0].replicas[0]).toMatchObject({ name: 'backup', position: null });
  });

  it('exit 1 when a replica falls behind by more than max-lag, naming it and its error', async () => {
    const dir = tmpDir('lb-st-');
    const blocker = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocker, 'a file where the replica directory should be\n');
    const s = setup(path.join(blocker, 'r'));
    const env = { LIFEBOAT_HEALTH_MAX_LAG: '1s' };
    const rep = startReplicate(['-config', s.config], env);
    try {
      await rep.waitFor(/replicating/);
      await runWriter(s.db, 20);
      const st = await waitUntil(
        async () => {
          const r = await status(s.config, env);
          return r.code === 1 ? r : undefined;
        },
        { what: 'status to exit 1', detail: () => rep.lines.join('\n') },
      );
      expect(st.doc).toMatchObject({ source: 'replicator', healthy: false, max_lag_ms: 1000 });
      expect(st.doc.problems[0]).toMatch(new RegExp(`^${s.db.replace(/[.]/g, '\\.')} replica backup: \\d+\\.\\ds behind \\(max-lag 1\\.0s\\); last error: .*ENOTDIR`));
      expect(st.doc.databases[0].replicas[0]).toMatchObject({ failing: true, caught_up: false });
    } finally {
      await rep.stop();
    }
  });

  it('a symlink at the control socket path is refused by both sides, never followed', async () => {
    const s = setup();
    const elsewhere = path.join(s.dir, 'elsewhere.sock');
    fs.symlinkSync(elsewhere, s.socket);
    const rep = startReplicate(['-config', s.config]);
    try {
      await rep.waitFor(/no control socket: lifeboat status will read the replica instead/);
      expect(rep.lines.join('\n')).toContain('a symlink is in the way: refusing to follow it');
      expect(fs.lstatSync(s.socket).isSymbolicLink()).toBe(true);
      expect(fs.existsSync(elsewhere)).toBe(false);
      const st = await status(s.config);
      expect(st.code, st.all).toBe(2);
      expect(st.doc.problems[0]).toBe(`replicator not answering for ${s.db}: control socket ${s.socket} is a symlink: refusing to follow it`);
    } finally {
      await rep.stop();
    }
  });

  it('a database whose directory does not exist at start gets its control socket once it is created', async () => {
    const dir = tmpDir('lb-st-');
    const db = path.join(dir, 'data', 'app.db');
    const config = path.join(dir, 'lifeboat.yml');
    fs.writeFileSync(config, `dbs:\n  - path: ${db}\n    monitor-interval: 100ms\n    replicas:\n      - name: backup\n        path: ${path.join(dir, 'r')}\n`);
    const rep = startReplicate(['-config', config]);
    try {
      await rep.waitFor(/replicating/);
      // First boot: the app makes the directory and the database.
      fs.mkdirSync(path.dirname(db));
      openWAL(db).close();
      await rep.waitFor(/opened/);
      const st = await waitUntil(async () => {
        const r = await status(config);
        return r.code === 0 ? r : undefined;
      }, { what: 'status 0 over the control socket', detail: () => rep.lines.join('\n') });
      expect(st.doc).toMatchObject({ source: 'replicator', replicator: 'running', pid: rep.proc.pid });
      expect(fs.lstatSync(path.join(dir, 'data', '.app.db-lifeboat.sock')).mode & 0o777).toBe(0o600);
      expect(rep.lines.join('\n')).not.toMatch(/no control socket/);
    } finally {
      await rep.stop();
    }
  });

  it('bad input: exit 2 with one line', async () => {
    const r = await lifeboat(['status', '-config', '/nonexistent/lifeboat.yml']);
    expect(r.exitCode).toBe(2);
    expect(String(r.stderr).trim()).toBe('lifeboat status: config file not found: /nonexistent/lifeboat.yml (from -config)');
    const s = setup();
    const bad = await lifeboat(['status', '-config', s.config], { env: { LIFEBOAT_HEALTH_MAX_LAG: 'soon' } });
    expect(bad.exitCode).toBe(2);
    expect(String(bad.stderr).trim()).toBe(`lifeboat status: ${s.config}: LIFEBOAT_HEALTH_MAX_LAG: invalid duration "soon" (want e.g. 30s or 1m)`);
    // Commands that do not judge health never read it.
    const other = await lifeboat(['databases', '-config', s.config], { env: { LIFEBOAT_HEALTH_MAX_LAG: 'soon' } });
    expect(other.exitCode, String(other.all)).toBe(0);
  });
});
