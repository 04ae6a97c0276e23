import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';
import { startInit } from '../helpers/procs.js';
import { insertRows, openWAL, rowsDigest } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

describe('lifeboat init: command line', () => {
  it('prints its usage for -h and exits 0', async () => {
    const r = await lifeboat(['init', '-h']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Usage: lifeboat init [flags] [--] [CMD ARGS...]');
    expect(r.stdout).toContain('-services DIR');
  });

  it('exits 2 with the usage on an unknown flag before the command', async () => {
    const r = await lifeboat(['init', '-bogus', 'node', 'server.js']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('lifeboat init: unknown flag: -bogus');
    expect(r.stderr).toContain('Usage: lifeboat init');
  });

  it('exits 2 when a flag lacks its value', async () => {
    const r = await lifeboat(['init', '-services']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('flag needs an argument: -services');
  });
});

/**
 * YAML_PROBE is a module every Node process of a run preloads (NODE_OPTIONS=--require): at
 * exit it appends `PID true|false COMMAND` to the file named by $YAML_PROBE_OUT, true when
 * the YAML library is among the modules it loaded (COMMAND: `lifeboat`'s, e.g. restore).
 */
const YAML_PROBE = `
const fs = require('node:fs');
process.on('exit', () => {
  const yaml = Object.keys(require.cache).some((k) => k.includes('/node_modules/yaml/'));
  fs.appendFileSync(process.env.YAML_PROBE_OUT, process.pid + ' ' + yaml + ' ' + (process.argv[2] || '-') + '\\n');
});
`;

/** ConfigRun is how one init run read its config: who loaded the YAML library, and what the init logged. */
interface ConfigRun {
  init: number;
  loaders: number[];
  probed: number;
  /** commands maps each `lifeboat` command run to whether it loaded the YAML library, in exit order. */
  commands: [string, boolean][];
  code: number | null;
  lines: string[];
}

/**
 * yamlLoaders runs the init with a config (a file replica, the app `exit-with.js 0`) on a
 * database of 10 rows (none with `rows: false`: the init restores it), every process of
 * the run preloading YAML_PROBE. A `dir` is reused (its config rewritten).
 */
async function yamlLoaders(configText: (dir: string) => string, env: NodeJS.ProcessEnv, opts: { dir?: string; rows?: boolean } = {}): Promise<ConfigRun> {
  const dir = opts.dir ?? tmpDir('lifeboat-init-config-');
  const config = path.join(dir, 'lifeboat.yml');
  fs.writeFileSync(config, configText(dir));
  const probe = path.join(dir, 'yaml-probe.cjs');
  fs.writeFileSync(probe, YAML_PROBE);
  const out = path.join(dir, 'yaml-probe.out');
  fs.rmSync(out, { force: true });
  if (opts.rows !== false) {
    const db = openWAL(path.join(dir, 'app.db'));
    insertRows(db, 10);
    db.close();
  }
  const run = await startInit(['-config', config, 'exit-with.js', '0'], {
    env: { NODE_OPTIONS: `--require ${probe}`, YAML_PROBE_OUT: out, ...env },
  });
  const { code } = await run.done;
  const probed = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
  const loaders = probed.filter(([, yaml]) => yaml === 'true').map(([pid]) => Number(pid));
  const commands = probed.map(([, yaml, cmd]): [string, boolean] => [cmd, yaml === 'true']);
  return { init: run.pid, loaders, probed: probed.length, commands, code, lines: run.lines() };
}

describe('lifeboat init: the config file, parsed once', () => {
  const config = (dir: string): string =>
    `logging:\n  level: debug\ndbs:\n  - path: ${dir}/app.db\n    replicas:\n      - path: \${REPLICA_DIR}\n`;

  it("takes the prestarted replicator's parse: the init itself never loads the YAML library", async () => {
    const replica = path.join(tmpDir('lifeboat-init-replica-'), 'replica');
    const r = await yamlLoaders(config, { REPLICA_DIR: replica });
    expect(r.code).toBe(0);
    // The init, the replicator and the app at least wrote their line; the replicator parsed the file.
    expect(r.probed).toBeGreaterThanOrEqual(3);
    expect(r.loaders.length).toBeGreaterThan(0);
    expect(r.loaders).not.toContain(r.init);
    expect(r.lines.some((l) => /^DEBUG config \S+ parsed by the replicator$/.test(l)), r.lines.join('\n')).toBe(true);
    // The expanded text was the one used: the database went to the replica it names.
    expect(fs.readdirSync(path.join(replica, 'generations')).length).toBe(1);
  });

  it('parses the file itself when the text expands otherwise for the replicator (its output prefixed: no timestamps of its own)', async () => {
    const replica = path.join(tmpDir('lifeboat-init-replica-'), 'replica');
    // Prefixed output: the replicator runs with LIFEBOAT_LOG_TIMESTAMPS=0, so this comment expands otherwise there.
    const withTimestamps = (dir: string): string => `# logs: \${LIFEBOAT_LOG_TIMESTAMPS}\n${config(dir)}`;
    const r = await yamlLoaders(withTimestamps, { REPLICA_DIR: replica, LIFEBOAT_LOG_PREFIX: '1', LIFEBOAT_LOG_TIMESTAMPS: '1' });
    expect(r.code).toBe(0);
    expect(r.loaders).toContain(r.init);
    const why = /^DEBUG config \S+ parsed here: the replicator parsed other text \(its environment differs\)$/;
    expect(r.lines.some((l) => why.test(l)), r.lines.join('\n')).toBe(true);
    expect(fs.readdirSync(path.join(replica, 'generations')).length).toBe(1);
  });

  it("a first boot's restore takes the init's parse too: no YAML library there, and the database restored", async () => {
    const replica = path.join(tmpDir('lifeboat-init-replica-'), 'replica');
    const dir = tmpDir('lifeboat-init-config-');
    const first = await yamlLoaders(config, { REPLICA_DIR: replica }, { dir });
    expect(first.code).toBe(0);
    const db = path.join(dir, 'app.db');
    const before = rowsDigest(db);
    expect(before.rows).toBe(10);
    for (const f of fs.readdirSync(dir)) if (f.startsWith('app.db') || f.startsWith('.app.db')) fs.rmSync(path.join(dir, f), { recursive: true });
    const r = await yamlLoaders(config, { REPLICA_DIR: replica }, { dir, rows: false });
    expect(r.code, r.lines.join('\n')).toBe(0);
    expect(r.commands.filter(([cmd]) => cmd === 'restore')).toEqual([['restore', false]]);
    expect(rowsDigest(db)).toEqual(before);
  });
});
