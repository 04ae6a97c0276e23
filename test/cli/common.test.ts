import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CONFIG_FLAGS, loadCommandConfig } from '../../src/cli/common.js';
import { parseArgs, type CommandSpec } from '../../src/cli/args.js';
import { Logger } from '../../src/log.js';
import { captureOutput } from '../helpers/capture.js';
import { ROOT } from '../helpers/cli.js';
import { TIMESTAMP, untimed } from '../helpers/log-lines.js';
import { tmpDir } from '../helpers/tmp.js';

/** logFrom runs setupLogging from the built code in a child process with `logging`, logs two lines, returns both streams. */
async function logFrom(logging: object, warnings: string[]) {
  const url = (p: string) => pathToFileURL(path.join(ROOT, 'dist', p)).href;
  const script = `
    const { setupLogging } = await import(${JSON.stringify(url('cli/common.js'))});
    const { log } = await import(${JSON.stringify(url('log.js'))});
    setupLogging({ logging: ${JSON.stringify(logging)}, dbs: [], warnings: ${JSON.stringify(warnings)} });
    log.info('hello', { db: '/d.db' });
    log.debug('detail');
  `;
  const proc = execa(process.execPath, ['--input-type=module', '-e', script]);
  captureOutput(proc, 'setup-logging');
  return proc;
}

describe('setupLogging (built, in a child process)', () => {
  it('logs to stderr by default, text behind a timestamp, and logs the config warnings first', async () => {
    const r = await logFrom({ level: 'info', type: 'text', stderr: true, timestamps: true }, ['dbs[0].x: unknown key, ignored']);
    expect(r.stdout).toBe('');
    const lines = String(r.stderr).split('\n');
    expect(lines.every((l) => new RegExp(`^${TIMESTAMP} `).test(l)), String(r.stderr)).toBe(true);
    expect(lines.map(untimed)).toEqual(['WARN dbs[0].x: unknown key, ignored', 'INFO hello db=/d.db']);
  });

  it('leaves the timestamp out with timestamps: false', async () => {
    const r = await logFrom({ level: 'info', type: 'text', stderr: true, timestamps: false }, []);
    expect(r.stderr).toBe('INFO hello db=/d.db');
  });

  it('logs to stdout with stderr: false, JSON with type: json, debug with level: debug', async () => {
    const r = await logFrom({ level: 'debug', type: 'json', stderr: false, timestamps: true }, []);
    expect(r.stderr).toBe('');
    const lines = String(r.stdout).split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.level, l.msg, l.db])).toEqual([
      ['info', 'hello', '/d.db'],
      ['debug', 'detail', undefined],
    ]);
  });

  it('drops warnings below the configured level', async () => {
    const r = await logFrom({ level: 'error', type: 'text', stderr: true, timestamps: true }, ['w']);
    expect([r.stdout, r.stderr]).toEqual(['', '']);
  });
});

describe('loadCommandConfig', () => {
  const spec: CommandSpec = { name: 't', summary: 's', usage: 't', flags: CONFIG_FLAGS };
  const dir = tmpDir();
  const file = path.join(dir, 'lifeboat.yml');
  fs.writeFileSync(file, 'logging:\n  level: error\ndbs:\n  - path: /d/$LIFEBOAT_TEST_NAME.db\n');

  it('loads the file named by -config, expanding env unless -no-expand-env', async () => {
    process.env.LIFEBOAT_TEST_NAME = 'app';
    const logger = new Logger();
    try {
      const expanded = await loadCommandConfig(parseArgs(spec, ['-config', file]).flags, { logger });
      expect(expanded.dbs[0].path).toBe('/d/app.db');
      expect(expanded.file).toBe(file);
      const literal = await loadCommandConfig(parseArgs(spec, ['-config', file, '-no-expand-env']).flags, { logger });
      expect(literal.dbs[0].path).toBe('/d/$LIFEBOAT_TEST_NAME.db');
      expect(logger.enabled('warn')).toBe(false); // level: error applied
    } finally {
      delete process.env.LIFEBOAT_TEST_NAME;
    }
  });
});
