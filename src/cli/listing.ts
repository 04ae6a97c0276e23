/**
 * listing: output helpers of the listing commands — a tab-aligned table in the style of
 * Go's text/tabwriter as the reference configures it (padding 2, spaces), RFC 3339 times
 * and Go-style durations (`16h19m0s`, `250ms`) with the reference's truncation.
 */

/** formatTable aligns rows into columns: each cell but a row's last is padded to its column's width + 2. */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i < row.length - 1) widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i] + 2) : cell)).join('') + '\n').join('');
}

/** formatTime renders a time as RFC 3339 in UTC with whole seconds (`2024-05-01T12:00:00Z`), as the reference prints. */
export function formatTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** truncateLag truncates a duration (ms) as the reference's truncateDuration: whole seconds past 10 s, tenths past 1 s. */
export function truncateLag(ms: number): number {
  const a = Math.abs(ms);
  const unit = a > 10_000 ? 1000 : a > 1000 ? 100 : 1;
  return Math.sign(ms) * Math.floor(a / unit) * unit;
}

/** goDuration renders milliseconds as Go's time.Duration.String() does (`1h2m3.5s`, `250ms`, `0s`). */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let a = Math.abs(ms);
  if (a < 1000) return `${sign}${a}ms`;
  const h = Math.floor(a / 3_600_000);
  a -= h * 3_600_000;
  const m = Math.floor(a / 60_000);
  a -= m * 60_000;
  const s = `${Math.floor(a / 1000)}${a % 1000 ? `.${String(a % 1000).padStart(3, '0').replace(/0+$/, '')}` : ''}s`;
  return sign + (h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s);
}

/**
 * formatLag renders how far a replica is behind (ms) as the `lag` column: Go-style,
 * truncated as the reference does, and never negative. A replica whose newest file is
 * stamped after the database's last change (or after now, for a URL) holds that change:
 * it is 0s behind. The reference prints such a lag as negative (`-16ms`), which says only
 * that the upload came after the write, or that the two clocks differ.
 */
export function formatLag(ms: number): string {
  return goDuration(truncateLag(Math.max(0, ms)));
}
