/**
 * duration: Go's `time.ParseDuration` and `Duration.String`, so that `litestream.yml`
 * durations (`1s`, `1m30s`, `1.5h`, `300ms`) mean exactly what they mean to the reference.
 * Arithmetic is done in BigInt nanoseconds, with Go's overflow limits; results are
 * milliseconds (fractional below 1 ms: `300us` = 0.3).
 */

const NS_PER_MS = 1_000_000n;
const LIMIT = 1n << 63n;

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek small letter mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** parseDuration parses a Go duration string (`2h45m`, `-1.5s`, `0`) into milliseconds; throws on bad input. */
export function parseDuration(s: string): number {
  return Number(parseDurationNs(s)) / Number(NS_PER_MS);
}

/** parseDurationNs parses a Go duration string into exact nanoseconds (Go's `time.ParseDuration`). */
export function parseDurationNs(orig: string): bigint {
  let s = orig;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalidDuration(orig);
  let d = 0n;
  while (s !== '') {
    const seg = parseSegment(s, orig);
    s = seg.rest;
    d += seg.ns;
    if (d > LIMIT) throw invalidDuration(orig);
  }
  if (neg) return -d;
  if (d > LIMIT - 1n) throw invalidDuration(orig);
  return d;
}

function invalidDuration(orig: string): Error {
  return new Error(`invalid duration ${JSON.stringify(orig)}`);
}

/** parseSegment reads one `[0-9]*(\.[0-9]*)?unit` from the front of `s` (Go's loop body). */
function parseSegment(s: string, orig: string): { ns: bigint; rest: string } {
  if (!(s[0] === '.' || isDigit(s[0]))) throw invalidDuration(orig);
  const lead = leadingInt(s);
  if (!lead) throw invalidDuration(orig);
  const pre = lead.rest.length !== s.length;
  s = lead.rest;
  let frac = { x: 0n, scale: 1, rest: s };
  if (s[0] === '.') frac = leadingFraction(s.slice(1));
  const post = s[0] === '.' && frac.rest.length !== s.length - 1;
  if (!pre && !post) throw invalidDuration(orig); // no digits: ".s"
  s = frac.rest;
  let i = 0;
  while (i < s.length && s[i] !== '.' && !isDigit(s[i])) i++;
  if (i === 0) throw new Error(`missing unit in duration ${JSON.stringify(orig)}`);
  const u = s.slice(0, i);
  const unit = UNITS[u];
  if (unit === undefined) throw new Error(`unknown unit ${JSON.stringify(u)} in duration ${JSON.stringify(orig)}`);
  if (lead.x > LIMIT / unit) throw invalidDuration(orig);
  let v = lead.x * unit;
  if (frac.x > 0n) {
    // Go: float64 keeps fractions of hours nanosecond-accurate.
    v += BigInt(Math.trunc(Number(frac.x) * (Number(unit) / frac.scale)));
    if (v > LIMIT) throw invalidDuration(orig);
  }
  return { ns: v, rest: s.slice(i) };
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function leadingInt(s: string): { x: bigint; rest: string } | undefined {
  let x = 0n;
  let i = 0;
  for (; i < s.length && isDigit(s[i]); i++) {
    if (x > LIMIT / 10n) return undefined;
    x = x * 10n + BigInt(s.charCodeAt(i) - 48);
    if (x > LIMIT) return undefined;
  }
  return { x, rest: s.slice(i) };
}

function leadingFraction(s: string): { x: bigint; scale: number; rest: string } {
  let x = 0n;
  let scale = 1;
  let overflow = false;
  let i = 0;
  for (; i < s.length && isDigit(s[i]); i++) {
    if (overflow) continue;
    if (x > (LIMIT - 1n) / 10n) {
      overflow = true;
      continue;
    }
    const y = x * 10n + BigInt(s.charCodeAt(i) - 48);
    if (y > LIMIT) {
      overflow = true;
      continue;
    }
    x = y;
    scale *= 10;
  }
  return { x, scale, rest: s.slice(i) };
}

/** formatDuration renders milliseconds as Go's `Duration.String` does: `1h0m0s`, `1m30s`, `300ms`, `1.5µs`, `0s`. */
export function formatDuration(ms: number): string {
  return formatDurationNs(BigInt(Math.round(ms * Number(NS_PER_MS))));
}

/** formatDurationNs renders nanoseconds as Go's `Duration.String` does. */
export function formatDurationNs(ns: bigint): string {
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u === 0n) return '0s';
    if (u < 1_000n) out = `${u}ns`;
    else if (u < 1_000_000n) out = `${fmtFrac(u, 3)}µs`;
    else out = `${fmtFrac(u, 6)}ms`;
  } else {
    out = `${fmtFrac(u % 60_000_000_000n, 9)}s`;
    u /= 60_000_000_000n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** fmtFrac renders v / 10**prec with trailing zeros (and a bare point) removed. */
function fmtFrac(v: bigint, prec: number): string {
  const scale = 10n ** BigInt(prec);
  const whole = v / scale;
  const frac = (v % scale).toString().padStart(prec, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}
