import { describe, expect, it } from 'vitest';
import { busyPollMs, MAX_BUSY_POLL_MS, POLL_MS } from '../../src/replicator/wake.js';

describe('busyPollMs', () => {
  it('is a quarter of the shortest sync-interval, between POLL_MS and MAX_BUSY_POLL_MS', () => {
    expect(busyPollMs([0])).toBe(POLL_MS);
    expect(busyPollMs([40])).toBe(POLL_MS);
    expect(busyPollMs([500])).toBe(125);
    expect(busyPollMs([1000])).toBe(MAX_BUSY_POLL_MS);
    expect(busyPollMs([60_000])).toBe(MAX_BUSY_POLL_MS);
    expect(busyPollMs([1000, 0])).toBe(POLL_MS);
    expect(busyPollMs([1000, 300])).toBe(75);
  });
});
