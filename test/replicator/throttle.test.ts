import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Throttle } from '../../src/replicator/throttle.js';

describe('Throttle', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** setup: a throttle of `interval` ms whose job and hook record what they saw, in order. */
  function setup(interval: number, opts: { fail?: number; firstRunMs?: number; stopInHook?: boolean } = {}) {
    const events: string[] = [];
    let runs = 0;
    let input = 0;
    const throttle: Throttle = new Throttle(
      async () => {
        runs++;
        events.push(`run ${runs} sees ${input}`);
        if (runs === 1 && opts.firstRunMs) await new Promise((resolve) => setTimeout(resolve, opts.firstRunMs));
        if (runs <= (opts.fail ?? 0)) throw new Error('boom');
      },
      {
        interval,
        onError: () => events.push('error'),
        beforeDeferredRun: () => {
          input++;
          events.push(`look ${input}`);
          throttle.trigger();
          if (opts.stopInHook) void throttle.stop();
        },
      },
    );
    return { throttle, events };
  }

  it('runs the first trigger at once, without the hook', async () => {
    const { throttle, events } = setup(1000);
    throttle.trigger();
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['run 1 sees 0']);
    await throttle.stop();
  });

  it('calls the hook just before a run the interval held back, and its trigger joins that run', async () => {
    const { throttle, events } = setup(1000);
    throttle.trigger();
    await vi.advanceTimersByTimeAsync(10);
    throttle.trigger();
    throttle.trigger();
    await vi.advanceTimersByTimeAsync(989);
    expect(events).toEqual(['run 1 sees 0']);
    await vi.advanceTimersByTimeAsync(1);
    expect(events).toEqual(['run 1 sees 0', 'look 1', 'run 2 sees 1']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(events).toEqual(['run 1 sees 0', 'look 1', 'run 2 sees 1']);
    await throttle.stop();
  });

  it('calls the hook before a retry after a failure', async () => {
    const { throttle, events } = setup(0, { fail: 1 });
    throttle.trigger();
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['run 1 sees 0', 'error']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(events).toEqual(['run 1 sees 0', 'error', 'look 1', 'run 2 sees 1']);
    await throttle.stop();
  });

  it('calls the hook before a run held back by a longer run in flight', async () => {
    const { throttle, events } = setup(1000, { firstRunMs: 1500 });
    throttle.trigger();
    await vi.advanceTimersByTimeAsync(10);
    throttle.trigger();
    await vi.advanceTimersByTimeAsync(1489);
    expect(events).toEqual(['run 1 sees 0']);
    await vi.advanceTimersByTimeAsync(10);
    expect(events).toEqual(['run 1 sees 0', 'look 1', 'run 2 sees 1']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(events).toEqual(['run 1 sees 0', 'look 1', 'run 2 sees 1']);
    await throttle.stop();
  });

  it('starts nothing when the hook stopped it', async () => {
    const { throttle, events } = setup(1000, { stopInHook: true });
    throttle.trigger();
    await vi.advanceTimersByTimeAsync(10);
    throttle.trigger();
    await vi.advanceTimersByTimeAsync(5000);
    expect(events).toEqual(['run 1 sees 0', 'look 1']);
  });

  it('runs nothing held back once stopped', async () => {
    const { throttle, events } = setup(1000);
    throttle.trigger();
    await vi.advanceTimersByTimeAsync(10);
    throttle.trigger();
    await throttle.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(events).toEqual(['run 1 sees 0']);
  });
});
