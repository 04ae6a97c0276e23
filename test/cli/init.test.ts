import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';
import { startInit } from '../helpers/procs.js';
import { insertRows, openWAL } from '../helpers/sqlite.js';
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
 * yamlLoaders runs the init with a config (a file replica, the app `exit-with.js 0`) under
 * NODE_DEBUG=module, which has every process print its CommonJS loads, on a database of 10
 * rows, and returns the pids
 * that loaded the YAML library, the init's own pid and the run's exit code.
 */
async function yamlLoaders(configText: (dir: string) => string, env: NodeJS.ProcessEnv): Promise<{ init: number; loaders: number[]; code: number | null; dir: string }> {
  const dir = tmpDir('lifeboat-init-config-');
  const config = path.join(dir, 'lifeboat.yml');
  fs.writeFileSync(config, configText(dir));
  const db = openWAL(path.join(dir, 'app.db'));
  insertRows(db, 10);
  db.close();
  const run = await startInit(['-config', config, 'exit-with.js', '0'], { env: { NODE_DEBUG: 'module', ...env } });
  const { code } = await run.done;
  const loaders = [...run.raw().matchAll(/MODULE (\d+): .*node_modules\/yaml\/dist\/index\.js/g)].map((m) => Number(m[1]));
  return { init: run.pid, loaders: [...new Set(loaders)], code, dir };
}

describe('lifeboat init: the config file, parsed once', () => {
  const config = (dir: string): string =>
    `# the replica is in \${REPLICA_DIR}; logs: \${LIFEBOAT_LOG_TIMESTAMPS}\ndbs:\n  - path: ${dir}/app.db\n    replicas:\n      - path: \${REPLICA_DIR}\n`;

  it("takes the prestarted replicator's parse: the init itself never loads the YAML library", async () => {
    const replica = path.join(tmpDir('lifeboat-init-replica-'), 'replica');
    // Unprefixed: the replicator writes to our output directly. Prefixed, NODE_DEBUG's
    // thousands of lines could fill its output pipe, which the init reads only once it has
    // the config (its format); the init would then parse the file itself after 5 s.
    const r = await yamlLoaders(config, { REPLICA_DIR: replica, LIFEBOAT_LOG_PREFIX: '0' });
    expect(r.code).toBe(0);
    expect(r.loaders.length).toBeGreaterThan(0);
    expect(r.loaders).not.toContain(r.init);
    // The expanded text was the one used: the database went to the replica it names.
    expect(fs.readdirSync(path.join(replica, 'generations')).length).toBe(1);
  });

  it('parses the file itself when the text expands otherwise for the replicator (its output prefixed: no timestamps of its own)', async () => {
    const replica = path.join(tmpDir('lifeboat-init-replica-'), 'replica');
    const r = await yamlLoaders(config, { REPLICA_DIR: replica, LIFEBOAT_LOG_PREFIX: '1', LIFEBOAT_LOG_TIMESTAMPS: '1' });
    expect(r.code).toBe(0);
    expect(r.loaders).toContain(r.init);
    expect(fs.readdirSync(path.join(replica, 'generations')).length).toBe(1);
  });
});
