/**
 * Litestream's command lines run unchanged: every flag that Litestream v0.3.5 to v0.3.11
 * accepts (the same set in each: their cmd/litestream sources) is accepted by our command
 * of the same name. `restore -v` logs at debug level; `replicate -trace PATH` writes every
 * line there. With $LITESTREAM_BIN, the table is checked against the reference binary: it
 * accepts each flag, and its help names no flag the table lacks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';
import { LITESTREAM_BIN, litestream } from '../helpers/litestream.js';
import { unpackFixture } from '../helpers/fixtures.js';
import { insertRows, openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

/** UNSTAMPED runs the CLI with text lines without the leading time, so the assertions can anchor on the level. */
const UNSTAMPED = { env: { LIFEBOAT_LOG_TIMESTAMPS: '0' } };

/** FLAGS: each command's flags in Litestream v0.3.5–v0.3.11, with a value for those that take one. */
const FLAGS: Record<string, [flag: string, value?: string][]> = {
  databases: [['config', 'x.yml'], ['no-expand-env']],
  generations: [['config', 'x.yml'], ['no-expand-env'], ['replica', 'r']],
  replicate: [['config', 'x.yml'], ['no-expand-env'], ['exec', 'true'], ['trace', 'trace.log']],
  restore: [
    ['config', 'x.yml'],
    ['no-expand-env'],
    ['o', 'out.db'],
    ['replica', 'r'],
    ['generation', '0123456789abcdef'],
    ['index', '0000000a'],
    ['parallelism', '4'],
    ['if-db-not-exists'],
    ['if-replica-exists'],
    ['timestamp', '2024-05-01T12:00:00Z'],
    ['v'],
  ],
  snapshots: [['config', 'x.yml'], ['no-expand-env'], ['replica', 'r']],
  version: [],
  wal: [['config', 'x.yml'], ['no-expand-env'], ['replica', 'r'], ['generation', '0123456789abcdef']],
};

/** line is `CMD -flag [value]… -h`: every flag parsed, then help (exit 0) before anything runs. */
function line(cmd: string): string[] {
  return [cmd, ...FLAGS[cmd].flatMap(([f, v]) => (v === undefined ? [`-${f}`] : [`-${f}`, v])), '-h'];
}

describe('Litestream v0.3.5–v0.3.11 flags', () => {
  for (const cmd of Object.keys(FLAGS)) {
    it(`${cmd}: every flag is accepted`, async () => {
      const r = await lifeboat(line(cmd));
      expect(r.exitCode, String(r.all)).toBe(0);
      expect(String(r.stdout)).toMatch(new RegExp(`^Usage: lifeboat ${cmd}`));
      for (const [f] of FLAGS[cmd]) expect(String(r.stdout)).toMatch(new RegExp(`^  (-\\w, )?-${f}\\b`, 'm'));
    });
  }

  it.runIf(LITESTREAM_BIN !== undefined)('the table is the reference binary\'s: it accepts every flag, its help names no other', async () => {
    for (const cmd of Object.keys(FLAGS)) {
      const r = await litestream(line(cmd));
      expect(String(r.all), cmd).not.toMatch(/flag provided but not defined/);
      const documented = [...String(r.all).matchAll(/^\t-([\w-]+)/gm)].map((m) => m[1]);
      expect(FLAGS[cmd].map(([f]) => f).sort(), cmd).toEqual(expect.arrayContaining(documented));
    }
  });
});

describe('restore -v', () => {
  it('logs the plan at debug level on stderr; without it, no debug lines', async () => {
    const fx = unpackFixture('basic');
    const verbose = await lifeboat(['restore', '-v', '-o', path.join(fx.dir, 'v.db'), `file://${fx.replica}`], UNSTAMPED);
    expect(verbose.exitCode, String(verbose.all)).toBe(0);
    expect(String(verbose.stderr)).toMatch(/^DEBUG restore plan replica=\S+ generation=6073f47898eb5422 snapshot=00000000 wal_indexes=1 output=\S+v\.db$/m);
    expect(String(verbose.stderr)).toMatch(/^DEBUG restored /m);
    const quiet = await lifeboat(['restore', '-o', path.join(fx.dir, 'q.db'), `file://${fx.replica}`], UNSTAMPED);
    expect(quiet.exitCode, String(quiet.all)).toBe(0);
    expect(String(quiet.stderr)).not.toMatch(/DEBUG/);
  });

  it('overrides the level of logging: in the config', async () => {
    const fx = unpackFixture('basic');
    const cfg = path.join(fx.dir, 'litestream.yml');
    const db = path.join(fx.dir, 'db', 'app.db');
    fs.writeFileSync(cfg, `logging:\n  level: warn\ndbs:\n  - path: ${db}\n    replicas:\n      - path: ${fx.replica}\n`);
    const r = await lifeboat(['restore', '-config', cfg, '-v', db], UNSTAMPED);
    expect(r.exitCode, String(r.all)).toBe(0);
    expect(String(r.stderr)).toMatch(/^DEBUG restore plan /m);
  });
});

describe('replicate -trace PATH', () => {
  it('writes every line, debug included, each stamped with its time; the output keeps its level', async () => {
    const dir = tmpDir();
    const dbPath = path.join(dir, 'app.db');
    const db = openWAL(dbPath);
    insertRows(db, 10);
    db.close();
    const trace = path.join(dir, 'trace.log');
    fs.writeFileSync(trace, 'left over from an earlier run\n');
    const r = await lifeboat(['replicate', '-once', '-trace', trace, dbPath, `file://${path.join(dir, 'replica')}`], UNSTAMPED);
    expect(r.exitCode, String(r.all)).toBe(0);
    const lines = fs.readFileSync(trace, 'utf8').split('\n').filter(Boolean);
    expect(lines.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARN|ERROR) /.test(l)), lines.join('\n')).toBe(true);
    expect(lines.some((l) => / DEBUG /.test(l))).toBe(true);
    expect(lines.some((l) => / INFO sync complete/.test(l))).toBe(true);
    expect(String(r.stderr)).toMatch(/^INFO sync complete/m);
    expect(String(r.stderr)).not.toMatch(/DEBUG/);
  });

  it('fails with one line when PATH cannot be written', async () => {
    const dir = tmpDir();
    const r = await lifeboat(['replicate', '-once', '-trace', path.join(dir, 'no', 'such', 'dir', 't.log'), path.join(dir, 'a.db'), `file://${dir}/r`], UNSTAMPED);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr).trim()).toMatch(/^lifeboat replicate: open -trace file: ENOENT: no such file or directory/);
  });
});
