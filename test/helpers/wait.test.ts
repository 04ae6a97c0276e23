import { describe, expect, it } from 'vitest';
import { waitUntil } from './wait.js';

describe('waitUntil', () => {
  it('resolves with the first value that is not undefined, null or false', async () => {
    let n = 0;
    expect(await waitUntil(() => (++n >= 3 ? { n } : undefined), { what: 'three probes', intervalMs: 1 })).toEqual({ n: 3 });
    expect(await waitUntil(async () => 0, { what: 'zero' })).toBe(0);
  });

  it('throws after the deadline, naming what it waited for, the last value and the detail', async () => {
    await expect(waitUntil(() => false, { what: 'the moon', timeoutMs: 50, intervalMs: 5, detail: () => 'output so far' })).rejects.toThrow(
      /^timed out after 50 ms waiting for the moon \(last probe: false\)\noutput so far$/,
    );
  });

  it('passes on an error of the probe at once', async () => {
    await expect(waitUntil(() => { throw new Error('boom'); }, { what: 'x' })).rejects.toThrow('boom');
  });
});
