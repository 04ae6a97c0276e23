import { describe, expect, it } from 'vitest';
import { formatDuration, formatDurationNs, parseDuration, parseDurationNs } from '../../src/config/duration.js';

const S = 1_000_000_000n;
const MS = 1_000_000n;
const US = 1_000n;
const MIN = 60n * S;
const H = 60n * MIN;

// Go's time_test.go parseDurationTests, in nanoseconds.
const valid: [string, bigint][] = [
  ['0', 0n],
  ['5s', 5n * S],
  ['30s', 30n * S],
  ['1478s', 1478n * S],
  ['-5s', -5n * S],
  ['+5s', 5n * S],
  ['-0', 0n],
  ['+0', 0n],
  ['5.0s', 5n * S],
  ['5.6s', 5n * S + 600n * MS],
  ['5.s', 5n * S],
  ['.5s', 500n * MS],
  ['1.0s', S],
  ['1.00s', S],
  ['1.004s', S + 4n * MS],
  ['1.0040s', S + 4n * MS],
  ['100.00100s', 100n * S + MS],
  ['10ns', 10n],
  ['11us', 11n * US],
  ['12µs', 12n * US],
  ['12μs', 12n * US],
  ['13ms', 13n * MS],
  ['14s', 14n * S],
  ['15m', 15n * MIN],
  ['16h', 16n * H],
  ['3h30m', 3n * H + 30n * MIN],
  ['10.5s4m', 4n * MIN + 10n * S + 500n * MS],
  ['-2m3.4s', -(2n * MIN + 3n * S + 400n * MS)],
  ['1h2m3s4ms5us6ns', H + 2n * MIN + 3n * S + 4n * MS + 5n * US + 6n],
  ['39h9m14.425s', 39n * H + 9n * MIN + 14n * S + 425n * MS],
  ['52763797000ns', 52763797000n],
  ['0.3333333333333333333h', 20n * MIN],
  ['9007199254740993ns', (1n << 53n) + 1n],
  ['9223372036854775807ns', (1n << 63n) - 1n],
  ['9223372036854775.807us', (1n << 63n) - 1n],
  ['9223372036.854775807s', (1n << 63n) - 1n],
  ['-9223372036854775808ns', -(1n << 63n)],
  ['0.100000000000000000000h', 6n * MIN],
  ['0.830103483285477580700h', 49n * MIN + 48n * S + 372539827n],
  ['1.5h', 90n * MIN],
  ['2h45m', 2n * H + 45n * MIN],
  ['1m30s', 90n * S],
  ['300ms', 300n * MS],
  ['-1s', -S],
];

const invalid: [string, string][] = [
  ['', 'invalid duration ""'],
  ['3', 'missing unit in duration "3"'],
  ['1', 'missing unit in duration "1"'],
  ['00', 'missing unit in duration "00"'],
  ['-', 'invalid duration "-"'],
  ['s', 'invalid duration "s"'],
  ['.', 'invalid duration "."'],
  ['-.', 'invalid duration "-."'],
  ['.s', 'invalid duration ".s"'],
  ['+.s', 'invalid duration "+.s"'],
  ['1d', 'unknown unit "d" in duration "1d"'],
  ['5 seconds', 'unknown unit " seconds" in duration "5 seconds"'],
  [' 5s', 'invalid duration " 5s"'],
  ['1h-1m', 'unknown unit "h-" in duration "1h-1m"'],
  ['1S', 'unknown unit "S" in duration "1S"'],
  ['9223372036854775808ns', 'invalid duration "9223372036854775808ns"'],
  ['9223372036854775.808us', 'invalid duration "9223372036854775.808us"'],
  ['-9223372036854775809ns', 'invalid duration "-9223372036854775809ns"'],
  ['2562048h', 'invalid duration "2562048h"'],
];

describe('parseDurationNs', () => {
  it.each(valid)('parses %j', (s, ns) => {
    expect(parseDurationNs(s)).toBe(ns);
  });

  it.each(invalid)('rejects %j', (s, message) => {
    expect(() => parseDurationNs(s)).toThrow(new Error(message));
  });
});

describe('parseDuration', () => {
  it('returns milliseconds, fractional below one millisecond', () => {
    expect(parseDuration('1s')).toBe(1000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('300us')).toBe(0.3);
    expect(parseDuration('-1.5s')).toBe(-1500);
    expect(parseDuration('0')).toBe(0);
  });
});

describe('formatDuration', () => {
  // Go's time_test.go durationTests.
  it.each([
    ['0s', 0n],
    ['1ns', 1n],
    ['1.1µs', 1100n],
    ['2.2ms', 2200n * US],
    ['3.3s', 3300n * MS],
    ['4m5s', 4n * MIN + 5n * S],
    ['4m5.001s', 4n * MIN + 5001n * MS],
    ['5h6m7.001s', 5n * H + 6n * MIN + 7001n * MS],
    ['8m0.000000001s', 8n * MIN + 1n],
    ['2562047h47m16.854775807s', (1n << 63n) - 1n],
    ['-2562047h47m16.854775808s', -(1n << 63n)],
  ] as [string, bigint][])('formats %s', (want, ns) => {
    expect(formatDurationNs(ns)).toBe(want);
  });

  it('formats milliseconds the way Go prints the same duration', () => {
    expect(formatDuration(86_400_000)).toBe('24h0m0s');
    expect(formatDuration(1000)).toBe('1s');
    expect(formatDuration(60_000)).toBe('1m0s');
    expect(formatDuration(300)).toBe('300ms');
    expect(formatDuration(0.3)).toBe('300µs');
    expect(formatDuration(-1500)).toBe('-1.5s');
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 999, 1000, 1500, 61_000, 3_600_000, 86_400_000, 90_061_001]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
