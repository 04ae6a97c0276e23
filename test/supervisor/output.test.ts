import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_LINE, prefixLines } from '../../src/supervisor/output.js';

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
    prefixLines(src, sink, 'web');
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
    prefixLines(src, sink, 'db');
    src.end('no newline');
    await new Promise((r) => setImmediate(r));
    expect(text()).toBe('db | no newline\n');
  });

  it('keeps multi-byte characters split across chunks intact', async () => {
    const src = new PassThrough();
    const { sink, text } = collect();
    prefixLines(src, sink, 'u');
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
    prefixLines(src, sink, 'x');
    src.write('a'.repeat(MAX_LINE + 10));
    src.end('b\n');
    await new Promise((r) => setImmediate(r));
    const lines = text().split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`x | ${'a'.repeat(MAX_LINE + 10)}`);
    expect(lines[1]).toBe('x | b');
  });
});
