/**
 * recent-lines: the last lines this process logged (and, under the init, the services'
 * prefixed output), kept in a small ring for the status page. Bounded in count and in the
 * length of each line. They are the lines already printed, which never carry secrets.
 */

/** RECENT_LINES is how many lines the ring keeps. */
export const RECENT_LINES = 50;

/** RECENT_LINE_MAX caps each kept line (characters; bytes for a Buffer): a longer one is cut, marked `…`. */
export const RECENT_LINE_MAX = 500;

/** RecentLines keeps the last `max` lines added, oldest first. */
export class RecentLines {
  private readonly ring: string[] = [];

  constructor(private readonly max = RECENT_LINES) {}

  /** add keeps each non-empty line of `text` (a trailing newline ends the last one), cut to RECENT_LINE_MAX. */
  add(text: string | Uint8Array): void {
    const s = typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, Math.min(text.length, RECENT_LINE_MAX + 1)).toString('utf8');
    for (const line of s.split('\n')) {
      if (line.trim() === '') continue;
      this.ring.push(line.length > RECENT_LINE_MAX ? `${line.slice(0, RECENT_LINE_MAX)}…` : line);
      if (this.ring.length > this.max) this.ring.shift();
    }
  }

  /** lines are the kept lines, oldest first (a copy). */
  lines(): string[] {
    return [...this.ring];
  }
}

/** recentLines is the process-wide ring: the root logger and the services' output feed it. */
export const recentLines = new RecentLines();
