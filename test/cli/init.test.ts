import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';

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
