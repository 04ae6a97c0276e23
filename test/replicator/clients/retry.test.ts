import { describe, expect, test } from 'vitest';
import { Logger } from '../../../src/log.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, withRetry, type RetryContext } from '../../../src/replicator/clients/retry.js';

const transient = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
const final = Object.assign(new Error('denied'), { code: 'EACCES' });

function ctx(lines: string[], over: Partial<RetryContext> = {}): RetryContext {
  return {
    op: 'write wal',
    key: 'generations/0123456789abcdef/wal/00000000_00000000.wal.lz4',
    logger: new Logger({ timestamps: false, write: (l) => lines.push(l) }),
    policy: { attempts: 4, baseDelay: 1, maxDelay: 4 },
    retryable: (e) => e === transient,
    describe: (e) => (e as Error).message,
    ...over,
  };
}

/** failing returns a function that throws `errors` in turn, then returns 'ok'; `calls` counts. */
function failing(...errors: Error[]) {
  const f = async () => {
    f.calls++;
    const e = errors.shift();
    if (e) throw e;
    return 'ok';
  };
  f.calls = 0;
  return f;
}

describe('backoffDelay', () => {
  test('doubles from the base, caps at the maximum, and jitters within the upper half', () => {
    const p = DEFAULT_RETRY_POLICY;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, p, () => 1))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect([1, 2, 3].map((n) => backoffDelay(n, p, () => 0))).toEqual([50, 100, 200]);
  });

  test('the default policy waits at most 3.1 s in all', () => {
    const waits = Array.from({ length: DEFAULT_RETRY_POLICY.attempts - 1 }, (_, i) => backoffDelay(i + 1, DEFAULT_RETRY_POLICY, () => 1));
    expect(waits.reduce((a, b) => a + b)).toBe(3100);
  });
});

describe('withRetry', () => {
  test('retries transient failures, logging each retry once with op and key', async () => {
    const lines: string[] = [];
    const fn = failing(transient, transient);
    expect(await withRetry(fn, ctx(lines))).toBe('ok');
    expect(fn.calls).toBe(3);
    expect(lines.map((l) => l.replace(/delay=\d+/, 'delay=N'))).toEqual([
      'WARN retrying op="write wal" key=generations/0123456789abcdef/wal/00000000_00000000.wal.lz4 attempt=2 delay=N error="read ECONNRESET"\n',
      'WARN retrying op="write wal" key=generations/0123456789abcdef/wal/00000000_00000000.wal.lz4 attempt=3 delay=N error="read ECONNRESET"\n',
    ]);
  });

  test('throws a final error at once, unlogged', async () => {
    const lines: string[] = [];
    const fn = failing(final);
    await expect(withRetry(fn, ctx(lines))).rejects.toBe(final);
    expect(fn.calls).toBe(1);
    expect(lines).toEqual([]);
  });

  test('gives up after the last attempt with the last error', async () => {
    const lines: string[] = [];
    const fn = failing(transient, transient, transient, transient, transient);
    await expect(withRetry(fn, ctx(lines))).rejects.toBe(transient);
    expect(fn.calls).toBe(4);
    expect(lines.length).toBe(3);
  });

  test('an abort during the wait rejects with the abort reason', async () => {
    const ac = new AbortController();
    const fn = failing(transient, transient);
    const started = Date.now();
    setTimeout(() => ac.abort(new Error('shutting down')), 50);
    await expect(withRetry(fn, ctx([], { signal: ac.signal, policy: { attempts: 3, baseDelay: 10_000, maxDelay: 10_000 } }))).rejects.toThrow('shutting down');
    // Well under the 10 s wait it cut short.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fn.calls).toBe(1);
  });
});
