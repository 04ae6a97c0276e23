import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LineFormat } from '../../src/log.js';
import { MAX_LINE, formatServiceLine, outputEnv, prefixLines } from '../../src/supervisor/output.js';
import { TIMESTAMP } from '../helpers/log-lines.js';

/** PLAIN is text without timestamps: the prefixLines tests are about lines, not times. */
const PLAIN = (): LineFormat => ({ json: false, timestamps: false });

function collect(): { sink: PassThrough; text: () => string } {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  return { sink, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('prefixLines', () => {
  it('prefixes every line, joining lines split across chunks', async () => {
    const src = new PassThrough();
    const { sink, text } = collect();
    prefixLines(src, sink, 'web', { format: PLAIN });
    src.write('one\ntw');
    src.write('o\n\nthr');
    src.write('ee\n');
    src.end();
    await new Promise((r) => setImmediate(r));
    expect(text()).toBe('web | one\nweb | two\nweb | \nweb | three\n');
  });

  it('flushes a partial last line with a newline when the stream ends', async () => {
    const src = new PassThrough();
    const { sink, text } = collect();
    prefixLines(src, sink, 'db', { format: PLAIN });
    src.end('no newline');
    await new Promise((r) => setImmediate(r));
    expect(text()).toBe('db | no newline\n');
  });

  it('keeps multi-byte characters split across chunks intact', async () => {
    const src = new PassThrough();
    const { sink, text } = collect();
    prefixLines(src, sink, 'u', { format: PLAIN });
    const bytes = Buffer.from('héllo wörld\n');
    src.write(bytes.subarray(0, 2));
    src.write(bytes.subarray(2));
    src.end();
    await new Promise((r) => setImmediate(r));
    expect(text()).toBe('u | héllo wörld\n');
  });

  it('cuts an endless line at MAX_LINE so memory stays bounded', async () => {
    const src = new PassThrough();
    const { sink, text } = collect();
    prefixLines(src, sink, 'x', { format: PLAIN });
    src.write('a'.repeat(MAX_LINE + 10));
    src.end('b\n');
    await new Promise((r) => setImmediate(r));
    const lines = text().split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`x | ${'a'.repeat(MAX_LINE + 10)}`);
    expect(lines[1]).toBe('x | b');
  });
});

describe('formatServiceLine', () => {
  const now = new Date('2026-12-06T19:33:01.123Z');
  const fmt = (line: string, format: LineFormat, stream: 'stdout' | 'stderr' = 'stdout') =>
    formatServiceLine('web', stream, Buffer.from(line), format, now).toString('utf8');

  it('text: the timestamp first, then the prefix; without timestamps only the prefix', () => {
    expect(fmt('listening on :8080', { json: false, timestamps: true })).toBe('2026-12-06T19:33:01.123Z web | listening on :8080\n');
    expect(fmt('listening on :8080', { json: false, timestamps: false })).toBe('web | listening on :8080\n');
  });

  it('json: a plain line becomes one object naming the service and the stream', () => {
    const json = { json: true, timestamps: true };
    expect(JSON.parse(fmt('listening on :8080', json))).toEqual({ time: '2026-12-06T19:33:01.123Z', level: 'info', stream: 'stdout', service: 'web', msg: 'listening on :8080' });
    expect(JSON.parse(fmt('oops {not json}', json, 'stderr'))).toMatchObject({ stream: 'stderr', msg: 'oops {not json}' });
    expect(fmt('x', { json: true, timestamps: false }).endsWith('}\n')).toBe(true);
  });

  it('json: a line that is a JSON object keeps its fields and time, and gets the service', () => {
    const line = '{"time":"2026-12-06T19:33:00.999Z","level":"warn","msg":"retrying","db":"/d.db"}';
    expect(JSON.parse(fmt(line, { json: true, timestamps: true }))).toEqual({ time: '2026-12-06T19:33:00.999Z', level: 'warn', msg: 'retrying', db: '/d.db', service: 'web' });
    expect(JSON.parse(fmt('{"msg":"no time"}', { json: true, timestamps: true }))).toEqual({ time: '2026-12-06T19:33:01.123Z', msg: 'no time', service: 'web' });
    expect(JSON.parse(fmt('[1,2]', { json: true, timestamps: true }))).toMatchObject({ msg: '[1,2]', service: 'web' });
  });

  it('prefixLines reads the format at each line (the init configures its log after wiring the prestarted replicator)', async () => {
    const src = new PassThrough();
    const { sink, text } = collect();
    let format: LineFormat = { json: false, timestamps: true };
    prefixLines(src, sink, 'r', { stream: 'stderr', format: () => format });
    src.write('first\n');
    await new Promise((r) => setImmediate(r));
    format = { json: true, timestamps: true };
    src.end('second\n');
    await new Promise((r) => setImmediate(r));
    const [first, second] = text().split('\n');
    expect(first).toMatch(new RegExp(`^${TIMESTAMP} r \\| first$`));
    expect(JSON.parse(second)).toMatchObject({ stream: 'stderr', service: 'r', msg: 'second' });
  });
});

describe('outputEnv', () => {
  it('turns the timestamps of a piped child off, and leaves an inherited one alone', () => {
    const env = { PATH: '/bin', LIFEBOAT_LOG_TIMESTAMPS: '1' };
    expect(outputEnv(true, env)).toEqual({ PATH: '/bin', LIFEBOAT_LOG_TIMESTAMPS: '0' });
    expect(outputEnv(false, env)).toBe(env);
  });
});
