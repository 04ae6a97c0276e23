/**
 * The init's log end to end, with the built CLI and the real replicator: every line the
 * init writes — its own, its services', the replicator's — carries one timestamp (the
 * init's: the replicator's output is stamped by the init, not twice); `logging.timestamps:
 * false` and `LIFEBOAT_LOG_TIMESTAMPS=0` leave it out; `logging.type: json` makes each of
 * those lines one JSON object; `logging.level` filters the init's lines and the
 * replicator's alike. The app's output is never touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TIMESTAMP } from '../helpers/log-lines.js';
import { makeService, runInit, waitForFileSh } from '../helpers/procs.js';
import { openWAL } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

const APP_LINE = 'app says hi';
const LEVEL = '(DEBUG|INFO|WARN|ERROR)';

/**
 * boot runs `lifeboat init` with a replicated database, one service printing a line on
 * stdout and one on stderr, and an app that prints APP_LINE once the service has spoken,
 * then exits 0 (which stops everything). `logging` is the config's logging block.
 */
async function boot(logging: string, env: NodeJS.ProcessEnv = {}) {
  const dir = tmpDir('lifeboat-init-log-');
  const db = path.join(dir, 'app.db');
  openWAL(db).close();
  const config = path.join(dir, 'lifeboat.yml');
  fs.writeFileSync(config, `${logging}\ndbs:\n  - path: ${db}\n    monitor-interval: 100ms\n    replicas:\n      - path: ${path.join(dir, 'replica')}\n`);
  const marker = path.join(dir, 'spoke');
  const services = path.join(dir, 'services.d');
  makeService(services, 'svc', `echo svc says hi; echo svc to stderr >&2; echo ok > '${marker}'; exec forever.js`);
  const app = `${waitForFileSh(marker)}; echo '${APP_LINE}'`;
  const r = await runInit(['-config', config, '-services', services, 'sh', '-c', app], { env });
  expect(r.code, r.raw).toBe(0);
  return { ...r, db, rawLines: r.raw.split('\n').filter(Boolean) };
}

describe('lifeboat init: its log', () => {
  it('text: one timestamp first on every line of the init, its services and the replicator; the app untouched', async () => {
    const r = await boot('');
    const notApp = r.rawLines.filter((l) => l !== APP_LINE);
    expect(r.rawLines).toContain(APP_LINE);
    const stamped = new RegExp(`^${TIMESTAMP} (${LEVEL} |[\\w./-]+ \\| )`);
    expect(notApp.filter((l) => !stamped.test(l)), r.raw).toEqual([]);
    const ts = new RegExp(`^${TIMESTAMP} `);
    expect(r.rawLines.filter((l) => ts.test(l.replace(ts, ''))), 'a line with two timestamps').toEqual([]);
    const find = (re: RegExp) => notApp.find((l) => re.test(l));
    expect(find(new RegExp(`^${TIMESTAMP} INFO init started `)), r.raw).toBeDefined();
    expect(find(new RegExp(`^${TIMESTAMP} svc \\| svc says hi$`)), r.raw).toBeDefined();
    expect(find(new RegExp(`^${TIMESTAMP} svc \\| svc to stderr$`)), r.raw).toBeDefined();
    expect(find(new RegExp(`^${TIMESTAMP} replicate \\| INFO replicating db=`)), r.raw).toBeDefined();
  });

  it.each([
    ['logging.timestamps: false', 'logging:\n  timestamps: false', {}],
    ['LIFEBOAT_LOG_TIMESTAMPS=0 (over the file)', 'logging:\n  timestamps: true', { LIFEBOAT_LOG_TIMESTAMPS: '0' }],
  ])('text without timestamps: %s', async (_name, logging, env) => {
    const r = await boot(logging, env);
    expect(r.rawLines.filter((l) => new RegExp(TIMESTAMP).test(l)), r.raw).toEqual([]);
    // The init gives its children LIFEBOAT_LOG_TIMESTAMPS=0: logging.timestamps stays a known key.
    expect(r.rawLines.filter((l) => l.includes('unknown key')), r.raw).toEqual([]);
    expect(r.rawLines).toEqual(expect.arrayContaining([APP_LINE, 'svc | svc says hi', 'svc | svc to stderr']));
    expect(r.rawLines.some((l) => l.startsWith('INFO init started ')), r.raw).toBe(true);
    expect(r.rawLines.some((l) => l.startsWith(`replicate | INFO replicating db=${r.db}`)), r.raw).toBe(true);
  });

  it('json: one object per line, services\' lines wrapped, the replicator\'s objects given their service; the app untouched', async () => {
    const r = await boot('logging:\n  type: json');
    expect(r.rawLines).toContain(APP_LINE);
    const objs = r.rawLines.filter((l) => l !== APP_LINE).map((l) => JSON.parse(l) as Record<string, unknown>);
    const time = expect.stringMatching(new RegExp(`^${TIMESTAMP}$`));
    for (const o of objs) expect(o, JSON.stringify(o)).toMatchObject({ time, level: expect.stringMatching(/^(debug|info|warn|error)$/) });
    expect(objs).toContainEqual(expect.objectContaining({ level: 'info', msg: 'init started' }));
    expect(objs).toContainEqual({ time, level: 'info', stream: 'stdout', service: 'svc', msg: 'svc says hi' });
    expect(objs).toContainEqual({ time, level: 'info', stream: 'stderr', service: 'svc', msg: 'svc to stderr' });
    expect(objs).toContainEqual(expect.objectContaining({ service: 'replicate', level: 'info', msg: 'replicating', db: r.db }));
    expect(objs.filter((o) => o.service === 'replicate' && typeof o.msg === 'string' && /^\{|INFO /.test(o.msg)), 'replicator lines wrapped as text').toEqual([]);
  });

  it('logging.level filters the init\'s lines and the replicator\'s (not the services\' output)', async () => {
    const warn = await boot('colour: red\nlogging:\n  level: warn');
    const unknown = 'WARN colour: unknown key, ignored';
    const untimed = warn.rawLines.map((l) => l.replace(new RegExp(`^${TIMESTAMP} `), ''));
    expect(untimed).toEqual(expect.arrayContaining([unknown, `replicate | ${unknown}`, 'svc | svc says hi', APP_LINE]));
    expect(untimed.filter((l) => /(^|\| )(INFO|DEBUG) /.test(l)), warn.raw).toEqual([]);
    const error = await boot('colour: red\nlogging:\n  level: error');
    expect(error.rawLines.filter((l) => / (WARN|INFO|DEBUG) /.test(` ${l}`)), error.raw).toEqual([]);
    expect(error.rawLines).toEqual(expect.arrayContaining([APP_LINE]));
  });

  it('a bad LIFEBOAT_LOG_TIMESTAMPS: exit 2, one line naming the variable and the value', async () => {
    const dir = tmpDir('lifeboat-init-log-');
    const r = await runInit(['true'], { env: { LIFEBOAT_LOG_TIMESTAMPS: 'sometimes' }, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.raw).toBe('lifeboat init: LIFEBOAT_LOG_TIMESTAMPS: not 0 or 1: "sometimes"\n');
  });
});
