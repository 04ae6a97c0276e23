/** log-lines: Lifeboat's text log lines in tests — the leading RFC 3339 timestamp matched, or taken off. */

/** TIMESTAMP is the source of a regex matching `2026-12-06T19:33:01.123Z` (UTC, milliseconds). */
export const TIMESTAMP = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;

const LEADING = new RegExp(`^${TIMESTAMP} `, 'gm');

/** untimed drops the leading timestamp of every line of `text` that has one (the app's lines have none). */
export function untimed(text: string): string {
  return text.replace(LEADING, '');
}
