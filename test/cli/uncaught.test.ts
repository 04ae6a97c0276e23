import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

describe('an error nothing caught in a command', () => {
  it.each([
    ['uncaught', 'uncaught exception'],
    ['rejection', 'unhandled rejection'],
  ])('%s: replicate ends with one line naming it and exit 1', async (mode, what) => {
    const dir = tmpDir();
    const res = await lifeboat(['replicate', path.join(dir, 'app.db'), `file://${path.join(dir, 'replica')}`], {
      env: { LIFEBOAT_TEST_COMMAND_FAIL: mode },
      timeout: 60_000,
    });
    expect(res.exitCode, String(res.all)).toBe(1);
    const lines = String(res.stderr).split('\n').filter((l) => l.includes('internal error'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^lifeboat replicate: internal error \\(${what}\\): Error: LIFEBOAT_TEST_COMMAND_FAIL=${mode} \\| at `));
  });
});
