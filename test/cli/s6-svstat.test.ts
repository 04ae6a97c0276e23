import { describe, expect, it } from 'vitest';
import { summary, tai64n } from '../../src/cli/s6-svstat.js';
import { getopt, S6Failure } from '../../src/cli/s6-common.js';
import type { SvStatus } from '../../src/supervisor/sv-status.js';

const NOW = 1_800_000_000_000;
const base: SvStatus = {
  up: true, wantedUp: true, normallyUp: true, ready: true, paused: false, pid: 123, exitcode: -1, signal: null,
  updownSince: NOW - 45_500, readySince: NOW - 44_000, startedAt: NOW - 45_500, failed: false,
};

describe("s6-svstat's summary line", () => {
  it('reads as s6 prints it', () => {
    expect(summary(base, NOW)).toBe('up (pid 123) 45 seconds, ready 44 seconds');
    expect(summary({ ...base, normallyUp: false, wantedUp: false, ready: false }, NOW)).toBe('up (pid 123) 45 seconds, normally down, want down');
    const down = { ...base, up: false, wantedUp: false, pid: -1, updownSince: NOW - 3_000, readySince: NOW - 3_000 };
    expect(summary({ ...down, exitcode: 0 }, NOW)).toBe('down (exitcode 0) 3 seconds, normally up, ready 3 seconds');
    expect(summary({ ...down, signal: 'SIGTERM', wantedUp: true }, NOW)).toBe('down (signal SIGTERM) 3 seconds, normally up, want up, ready 3 seconds');
    expect(summary({ ...down, signal: 'SIGTERM', wantedUp: false }, NOW, true)).toBe('down (signal 15) 3 seconds, normally up, ready 3 seconds');
    expect(summary({ ...down, wantedUp: false, ready: false }, NOW)).toBe('down 3 seconds, normally up');
  });

  it('labels times in TAI64N, TAI ten seconds ahead of UTC', () => {
    expect(tai64n(0)).toBe('@400000000000000a00000000');
    expect(tai64n(1_500)).toBe('@400000000000000b1dcd6500');
  });
});

describe("s6's option syntax", () => {
  it('takes bundled letters, glued or separate values, and stops at the first operand', () => {
    expect(getopt(['-wU', '-T', '500', '-du', 'dir', '-x'], 'w:T:dux')).toEqual({
      opts: [['w', 'U'], ['T', '500'], ['d', undefined], ['u', undefined]],
      operands: ['dir', '-x'],
    });
    expect(() => getopt(['-z'], 'du')).toThrow(new S6Failure('unknown option: -z', 100));
    expect(() => getopt(['-T'], 'T:')).toThrow(new S6Failure('option -T needs a value', 100));
  });
});
