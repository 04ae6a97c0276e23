import { describe, expect, it } from 'vitest';
import { emptyReplica, judge, seconds, STATUS_VERSION, type Unjudged } from '../../src/replicator/status.js';

const G = '00000000000000aa';

function doc(lags: (number | null)[], extra: Partial<Unjudged> = {}): Unjudged {
  return {
    version: STATUS_VERSION,
    source: 'replicator',
    replicator: 'running',
    time: '2026-01-01T00:00:00.000Z',
    max_lag_ms: 30_000,
    databases: [
      {
        path: '/data/app.db',
        state: 'open',
        position: { generation: G, index: 1, offset: 4152 },
        replicas: lags.map((lag, i) => ({ ...emptyReplica(`r${i}`), lag_ms: lag, last_error: i === 1 ? 'write wal 00000001_00001038: ETIMEDOUT' : null, failing: i === 1 })),
      },
    ],
    ...extra,
  };
}

describe('judge: the health verdict', () => {
  it('is healthy while every replica is within max-lag (at max-lag included); unknown lags do not count', () => {
    const d = judge(doc([0, 30_000, null]));
    expect(d.healthy).toBe(true);
    expect(d.problems).toEqual([]);
  });

  it('names the database, the replica, its lag and its last error when behind', () => {
    const d = judge(doc([0, 31_250]));
    expect(d.healthy).toBe(false);
    expect(d.problems).toEqual(['/data/app.db replica r1: 31.2s behind (max-lag 30.0s); last error: write wal 00000001_00001038: ETIMEDOUT']);
  });

  it('keeps the problems given (the replicator down) before the lags', () => {
    const d = judge(doc([40_000, 0], { replicator: 'down', problems: ['replicator down (backoff)'] }));
    expect(d.problems[0]).toBe('replicator down (backoff)');
    expect(d.problems[1]).toMatch(/^\/data\/app\.db replica r0: 40\.0s behind/);
    expect(d.healthy).toBe(false);
  });

  it('seconds truncates to a tenth', () => {
    expect([seconds(0), seconds(999), seconds(30_000), seconds(61_299)]).toEqual(['0.0s', '0.9s', '30.0s', '61.2s']);
  });
});
