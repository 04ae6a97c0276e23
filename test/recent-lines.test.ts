import { describe, expect, it } from 'vitest';
import { Logger } from '../src/log.js';
import { RECENT_LINE_MAX, RecentLines } from '../src/recent-lines.js';

describe('RecentLines', () => {
  it('keeps the last lines, oldest first, skipping empty ones', () => {
    const r = new RecentLines(3);
    r.add('a\n');
    r.add('b\n\nc\n');
    r.add(Buffer.from('svc | d\n'));
    expect(r.lines()).toEqual(['b', 'c', 'svc | d']);
  });

  it('cuts a long line (string or bytes) to RECENT_LINE_MAX, marked …', () => {
    const r = new RecentLines();
    r.add('x'.repeat(RECENT_LINE_MAX));
    r.add('y'.repeat(RECENT_LINE_MAX + 1));
    r.add(Buffer.alloc(64 * 1024, 'z'));
    const [x, y, z] = r.lines();
    expect(x).toBe('x'.repeat(RECENT_LINE_MAX));
    expect(y).toBe(`${'y'.repeat(RECENT_LINE_MAX)}…`);
    expect(z).toBe(`${'z'.repeat(RECENT_LINE_MAX)}…`);
  });

  it('is fed by a logger given one, and by its children, with the lines it writes', () => {
    const recent = new RecentLines();
    const written: string[] = [];
    const log = new Logger({ recent, timestamps: false, write: (l) => written.push(l) });
    log.info('started', { pid: 7 });
    log.debug('not written at info');
    log.child({ db: '/data/app.db' }).warn('slow');
    expect(recent.lines()).toEqual(['INFO started pid=7', 'WARN slow db=/data/app.db']);
    expect(written.map((l) => l.trimEnd())).toEqual(recent.lines());
  });
});
