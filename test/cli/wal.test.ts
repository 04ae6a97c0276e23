/** lifeboat wal: replica, generation, index and offset (hex, as in the names), size, created. */
import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';

/** RAW keeps the output's final newline (execa strips it by default). */
const RAW = { stripFinalNewline: false };
import { unpackFixture } from '../helpers/fixtures.js';

describe('lifeboat wal', () => {
  it('lists one generation\'s segments in (index, offset) order', async () => {
    const fx = unpackFixture('multi');
    const res = await lifeboat(['wal', '-generation', '1f74af7547aae934', `file://${fx.replica}`], RAW);
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(res.stdout).toBe(
      'replica  generation        index     offset    size   created\n' +
        'file     1f74af7547aae934  00000000  00000000  119    2026-11-24T00:32:19Z\n' +
        'file     1f74af7547aae934  00000000  00001038  14010  2026-11-24T00:32:19Z\n' +
        'file     1f74af7547aae934  00000000  00020320  14687  2026-11-24T00:32:20Z\n' +
        'file     1f74af7547aae934  00000000  00040620  4928   2026-11-24T00:32:21Z\n' +
        'file     1f74af7547aae934  00000000  0005c8c0  5112   2026-11-24T00:32:23Z\n',
    );
    const all = await lifeboat(['wal', `file://${fx.replica}`], RAW);
    expect(String(all.stdout).trim().split('\n')).toHaveLength(1 + 5 + 8);
    expect(all.stdout).toContain('file     9747914359e303c1  00000001  00102838  32938  2026-11-24T00:32:12Z\n');
  });
});
