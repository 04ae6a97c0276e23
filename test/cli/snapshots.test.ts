/** lifeboat snapshots: replica, generation, index (hex), size, created on the multi fixture. */
import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';

/** RAW keeps the output's final newline (execa strips it by default). */
const RAW = { stripFinalNewline: false };
import { unpackFixture } from '../helpers/fixtures.js';

describe('lifeboat snapshots', () => {
  it('lists every snapshot, or one generation with -generation', async () => {
    const fx = unpackFixture('multi');
    const all = await lifeboat(['snapshots', `file://${fx.replica}`], RAW);
    expect(all.exitCode, String(all.all)).toBe(0);
    expect(all.stdout).toBe(
      'replica  generation        index     size    created\n' +
        'file     1f74af7547aae934  00000000  117999  2026-11-24T00:32:19Z\n' +
        'file     9747914359e303c1  00000000  363     2026-11-24T00:32:05Z\n',
    );
    const one = await lifeboat(['snapshots', '-generation', '9747914359e303c1', `file://${fx.replica}`], RAW);
    expect(String(one.stdout).trim().split('\n')).toHaveLength(2);
    const bad = await lifeboat(['snapshots', '-generation', 'zz', `file://${fx.replica}`]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('invalid -generation "zz"');
  });
});
