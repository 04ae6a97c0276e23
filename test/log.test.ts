import { describe, expect, it } from 'vitest';
import { Logger, formatLine } from '../src/log.js';
import { TIMESTAMP } from './helpers/log-lines.js';

const now = new Date('2026-12-06T19:33:01.123Z');

describe('formatLine', () => {
  it('text: an RFC 3339 UTC time with milliseconds first, then LEVEL msg k=v', () => {
    expect(formatLine('info', 'replicating', { db: '/d.db', note: 'a b' }, { json: false, timestamps: true }, now)).toBe(
      '2026-12-06T19:33:01.123Z INFO replicating db=/d.db note="a b"\n',
    );
  });

  it('text without timestamps: LEVEL first', () => {
    expect(formatLine('warn', 'slow', {}, { json: false, timestamps: false }, now)).toBe('WARN slow\n');
  });

  it('json: one object with time, whatever timestamps says', () => {
    for (const timestamps of [true, false]) {
      expect(JSON.parse(formatLine('error', 'boom', { db: '/d.db' }, { json: true, timestamps }, now))).toEqual({
        time: '2026-12-06T19:33:01.123Z',
        level: 'error',
        msg: 'boom',
        db: '/d.db',
      });
    }
  });
});

describe('Logger', () => {
  it('stamps every text line by default; configure turns it off', () => {
    const lines: string[] = [];
    const log = new Logger({ write: (l) => lines.push(l) });
    log.child({ db: '/d.db' }).info('hello');
    log.configure({ timestamps: false });
    log.warn('plain');
    expect(lines[0]).toMatch(new RegExp(`^${TIMESTAMP} INFO hello db=/d.db\n$`));
    expect(lines[1]).toBe('WARN plain\n');
    expect(log.format).toEqual({ json: false, timestamps: false });
  });

  it('filters by level', () => {
    const lines: string[] = [];
    const log = new Logger({ level: 'warn', timestamps: false, write: (l) => lines.push(l) });
    log.info('dropped');
    log.error('kept');
    expect(lines).toEqual(['ERROR kept\n']);
  });
});
