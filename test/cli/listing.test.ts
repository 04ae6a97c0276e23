/** listing: the table aligner and Go-style times and durations of the listing commands. */
import { describe, expect, it } from 'vitest';
import { formatLag, formatTable, formatTime, goDuration, truncateLag } from '../../src/cli/listing.js';

describe('listing helpers', () => {
  it('formatTable pads every column but the last to its width + 2', () => {
    expect(formatTable([['name', 'x', 'end'], ['file-long', 'yyyy', 'z']])).toBe('name       x     end\nfile-long  yyyy  z\n');
  });

  it('goDuration prints as Go time.Duration.String()', () => {
    const cases: [number, string][] = [
      [0, '0s'], [250, '250ms'], [-3, '-3ms'], [1500, '1.5s'], [1234, '1.234s'], [37_000, '37s'],
      [60_000, '1m0s'], [3_600_000, '1h0m0s'], [58_740_000, '16h19m0s'], [-(3 * 60_000 + 18_000), '-3m18s'],
    ];
    for (const [ms, s] of cases) expect(goDuration(ms)).toBe(s);
  });

  it('truncateLag keeps whole seconds past 10 s, tenths past 1 s, toward zero', () => {
    expect([12_345, 1_234, 999, -3, -12_345].map(truncateLag)).toEqual([12_000, 1_200, 999, -3, -12_000]);
  });

  it('formatLag is truncated and never negative: a replica stamped after the change is 0s behind', () => {
    expect([12_345, 16, 0, -16, -12_345].map(formatLag)).toEqual(['12s', '16ms', '0s', '0s', '0s']);
  });

  it('formatTime is RFC 3339 UTC with whole seconds', () => {
    expect(formatTime(new Date('2026-11-24T00:32:19.870Z'))).toBe('2026-11-24T00:32:19Z');
  });
});
