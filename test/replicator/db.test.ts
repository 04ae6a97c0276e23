import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { DbConfig } from '../../src/config/types.js';
import { Logger } from '../../src/log.js';
import { Db } from '../../src/replicator/db.js';
import { shadowIndexes } from '../../src/replicator/shadow.js';
import { WAL_HEADER_SIZE, frameSize, parseWALHeader, scanFrames } from '../../src/replicator/wal.js';
import { openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

const lines: string[] = [];
const logger = new Logger({ level: 'debug', timestamps: false, write: (l) => lines.push(l) });
const open: { db: Db; app: Database.Database }[] = [];

afterEach(() => {
  for (const o of open.splice(0)) {
    o.app.close();
    o.db.close({ keepWAL: false });
  }
  lines.length = 0;
});

function setup(over: Partial<DbConfig> = {}): { db: Db; app: Database.Database; file: string } {
  const file = path.join(tmpDir(), 'app.db');
  const app = openWAL(file);
  app.pragma('wal_autocheckpoint = 0');
  const db = new Db(
    {
      path: file,
      monitorInterval: 1000,
      checkpointInterval: 60_000,
      minCheckpointPageCount: 1000,
      maxCheckpointPageCount: 10_000,
      replicas: [],
      ...over,
    },
    logger,
  );
  open.push({ db, app });
  return { db, app, file };
}

/** shadowFrames verifies a shadow WAL file and returns its frame count and commit status. */
function verifyShadow(file: string): { frames: number; endsOnCommit: boolean } {
  const bytes = fs.readFileSync(file);
  const hdr = parseWALHeader(bytes)!;
  expect(hdr).toBeDefined();
  const body = bytes.subarray(WAL_HEADER_SIZE);
  const scan = scanFrames(hdr, body, [hdr.checksum1, hdr.checksum2]);
  expect(scan.validEnd).toBe(body.length);
  return { frames: body.length / frameSize(hdr.pageSize), endsOnCommit: scan.commitEnd === body.length };
}

describe('Db', () => {
  it('starts a generation with a logged reason and copies committed frames', () => {
    const { db, app, file } = setup();
    expect(db.sync()).toBe(true);
    expect(lines.some((l) => l.includes('new generation') && l.includes('reason="no generation exists"'))).toBe(true);
    app.prepare('INSERT INTO t (v) VALUES (?)').run('hello');
    expect(db.sync()).toBe(true);
    const pos = db.pos()!;
    expect(pos.offset).toBe(fs.statSync(`${file}-wal`).size);
    expect(verifyShadow(db.shadowPath(pos.index)).endsOnCommit).toBe(true);
    expect(db.sync()).toBe(false);
  });

  it('never copies a torn transaction', () => {
    const { db, app, file } = setup();
    db.sync();
    const before = db.pos()!.offset;
    app.pragma('cache_size = 2');
    app.exec('BEGIN');
    const ins = app.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 300; i++) ins.run('x'.repeat(2000));
    // The spilled, uncommitted frames are in the WAL file but must not reach the shadow.
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(before + 10 * 4096);
    expect(db.sync()).toBe(false);
    expect(db.pos()!.offset).toBe(before);
    app.exec('COMMIT');
    expect(db.sync()).toBe(true);
    const shadow = verifyShadow(db.shadowPath(db.pos()!.index));
    expect(shadow.endsOnCommit).toBe(true);
    expect(db.pos()!.offset).toBe(fs.statSync(`${file}-wal`).size);
  });

  it('copies transactions spanning many reads byte for byte, and stops at the stale frames a restart leaves behind', () => {
    const { db, app, file } = setup();
    db.sync();
    const ins = app.prepare('INSERT INTO t (v) VALUES (?)');
    app.transaction(() => {
      for (let i = 0; i < 400; i++) ins.run('w'.repeat(3000));
    })();
    for (let i = 0; i < 5; i++) ins.run(`small ${i}`);
    db.sync();
    const pos = db.pos()!;
    const wal = fs.readFileSync(`${file}-wal`);
    expect(pos.offset).toBe(wal.length);
    expect(fs.readFileSync(db.shadowPath(pos.index)).equals(wal)).toBe(true);
    db.checkpoint('RESTART');
    for (let i = 0; i < 3; i++) ins.run(`after restart ${i}`);
    db.sync();
    const next = db.pos()!;
    expect(next.index).toBe(pos.index + 1);
    const restarted = fs.readFileSync(`${file}-wal`);
    expect(restarted.length).toBeGreaterThan(next.offset);
    expect(fs.readFileSync(db.shadowPath(next.index)).equals(restarted.subarray(0, next.offset))).toBe(true);
    expect(verifyShadow(db.shadowPath(next.index)).endsOnCommit).toBe(true);
  });

  it('a TRUNCATE checkpoint continues the generation in index+1 and cuts the WAL file down', () => {
    const { db, app, file } = setup();
    db.sync();
    const gen = db.generation;
    const ins = app.prepare('INSERT INTO t (v) VALUES (?)');
    app.transaction(() => {
      for (let i = 0; i < 400; i++) ins.run('z'.repeat(3000));
    })();
    db.sync();
    const before = db.pos()!;
    const grown = fs.statSync(`${file}-wal`).size;
    expect(grown).toBeGreaterThan(1_000_000);
    db.checkpoint('TRUNCATE');
    expect(fs.statSync(`${file}-wal`).size).toBeLessThan(grown / 100);
    ins.run('after truncate');
    db.sync();
    expect(db.generation).toBe(gen);
    expect(db.pos()!.index).toBe(before.index + 1);
    expect(app.prepare('SELECT v FROM t ORDER BY rowid DESC LIMIT 1').pluck().get()).toBe('after truncate');
    expect(verifyShadow(db.shadowPath(db.pos()!.index)).endsOnCommit).toBe(true);
  });

  it('continues in index+1 of the same generation after its own RESTART checkpoint', () => {
    const { db, app } = setup({ minCheckpointPageCount: 1000, maxCheckpointPageCount: 20 });
    db.sync();
    const gen = db.generation;
    const ins = app.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 60; i++) {
      ins.run('y'.repeat(3000));
      db.sync();
    }
    expect(db.generation).toBe(gen);
    expect(db.pos()!.index).toBeGreaterThanOrEqual(2);
    expect(lines.filter((l) => l.includes('new generation'))).toHaveLength(1);
    const indexes = shadowIndexes(db.meta, gen!);
    expect(indexes).toEqual(indexes.map((_, i) => i));
    for (const i of indexes) expect(verifyShadow(db.shadowPath(i)).endsOnCommit).toBe(true);
  });

  it('removeShadowBelow deletes the shadow files below an index, again as that index rises and in a new generation', () => {
    const { db, app } = setup();
    db.sync();
    const gen = db.generation!;
    const ins = app.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 4; i++) {
      ins.run(`row ${i}`);
      db.sync();
      db.checkpoint('TRUNCATE');
    }
    ins.run('last');
    db.sync();
    expect(shadowIndexes(db.meta, gen)).toEqual([0, 1, 2, 3, 4]);
    db.removeShadowBelow(2);
    db.removeShadowBelow(2);
    expect(shadowIndexes(db.meta, gen)).toEqual([2, 3, 4]);
    db.removeShadowBelow(4);
    expect(shadowIndexes(db.meta, gen)).toEqual([4]);
    db.restartGeneration('test: a new generation');
    const next = db.generation!;
    expect(next).not.toBe(gen);
    for (let i = 0; i < 2; i++) {
      ins.run(`next ${i}`);
      db.sync();
      db.checkpoint('TRUNCATE');
    }
    db.sync();
    expect(shadowIndexes(db.meta, next)).toEqual([0, 1, 2]);
    db.removeShadowBelow(1);
    expect(shadowIndexes(db.meta, next)).toEqual([1, 2]);
  });

  it('PASSIVE-checkpoints at min-checkpoint-page-count without losing frames', () => {
    const { db, app } = setup({ minCheckpointPageCount: 10, maxCheckpointPageCount: 0 });
    db.sync();
    const gen = db.generation;
    const ins = app.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 40; i++) {
      ins.run('z'.repeat(3000));
      db.sync();
    }
    expect(db.generation).toBe(gen);
    expect(db.pos()!.index).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => l.includes('checkpoint') && l.includes('mode=PASSIVE'))).toBe(true);
  });

  it('starts a new generation when the WAL is overwritten behind its back', () => {
    const { db, app, file } = setup();
    const ins = app.prepare('INSERT INTO t (v) VALUES (?)');
    ins.run('a');
    db.sync();
    const gen = db.generation;
    // Corrupt the last synced frame in place, as another process rewriting the WAL would.
    const pos = db.pos()!;
    const fd = fs.openSync(`${file}-wal`, 'r+');
    fs.writeSync(fd, Buffer.from('garbage!'), 0, 8, pos.offset - 100);
    fs.closeSync(fd);
    db.sync();
    expect(db.generation).not.toBe(gen);
    expect(lines.some((l) => l.includes('reason="wal overwritten by another process"'))).toBe(true);
  });

  it('waits for a database file that does not exist yet, then opens it', () => {
    const file = path.join(tmpDir(), 'later.db');
    const db = new Db({ path: file, monitorInterval: 1000, checkpointInterval: 60_000, minCheckpointPageCount: 1000, maxCheckpointPageCount: 10_000, replicas: [] }, logger);
    expect(db.open()).toBe(false);
    expect(db.state).toBe('waiting');
    const app = openWAL(file);
    open.push({ db, app });
    expect(db.sync()).toBe(true);
    expect(db.state).toBe('open');
  });

  it('refuses a file that is not SQLite with a message that does not mention WAL', () => {
    const file = path.join(tmpDir(), 'notes.db');
    fs.writeFileSync(file, 'hello, this is not a database at all, but it is long enough to look like one'.repeat(4));
    const db = new Db({ path: file, monitorInterval: 1000, checkpointInterval: 60_000, minCheckpointPageCount: 1000, maxCheckpointPageCount: 10_000, replicas: [] }, logger);
    expect(() => db.open()).toThrow(/not a SQLite database/);
    expect(() => db.open()).not.toThrow(/wal/i);
  });
});
