import { describe, expect, it } from 'vitest';
import {
  BACKOFF_MAX,
  FINISH_NO_RESTART,
  HEALTHY_AFTER,
  initialState,
  MIN_RESTART_GAP,
  quickDeath,
  restartDelay,
  STABLE_READY,
  STABLE_RUN,
  transition,
  type ServiceAction,
  type ServiceEvent,
  type ServicePolicy,
  type ServiceState,
} from '../../src/supervisor/service-table.js';

const plain: ServicePolicy = { hasFinish: false, notifies: false, downSignal: 'SIGTERM', timeoutKill: 1000, timeoutFinish: 5000 };
const notifying: ServicePolicy = { ...plain, notifies: true };
const withFinish: ServicePolicy = { ...plain, hasFinish: true, downSignal: 'SIGHUP', timeoutKill: 300 };

/** run feeds events in order and returns the final state and every action taken. */
function run(policy: ServicePolicy, events: ServiceEvent[], from: ServiceState = initialState()) {
  let state = from;
  const actions: ServiceAction[] = [];
  for (const e of events) {
    const t = transition(policy, state, e);
    state = t.state;
    actions.push(...t.actions);
  }
  return { state, actions };
}

const exit1 = { code: 1, signal: null };

describe('service table: start and readiness', () => {
  it('a service without notification-fd is up (and ready) as soon as it is spawned', () => {
    const { state, actions } = run(plain, [{ type: 'start', now: 0 }]);
    expect(state.phase).toBe('up');
    expect(actions).toEqual([{ type: 'spawn' }, { type: 'ready' }]);
  });

  it('a notifying service is starting until its newline, then up and ready', () => {
    const a = run(notifying, [{ type: 'start', now: 0 }]);
    expect(a.state.phase).toBe('starting');
    expect(a.actions).toEqual([{ type: 'spawn' }]);
    const b = run(notifying, [{ type: 'ready', now: 250 }], a.state);
    expect(b.state).toMatchObject({ phase: 'up', readyAt: 250 });
    expect(b.actions).toEqual([{ type: 'ready' }]);
  });

  it('ignores events that have no row (ready while up, start while up, timeout while up)', () => {
    const up = run(plain, [{ type: 'start', now: 0 }]).state;
    for (const e of [{ type: 'ready', now: 1 }, { type: 'start', now: 1 }, { type: 'timeout', now: 1 }] as ServiceEvent[]) {
      expect(transition(plain, up, e)).toEqual({ state: up, actions: [] });
    }
  });
});

describe('service table: restart policy', () => {
  it('restarts a quick death after the 1 s minimum gap', () => {
    const { state, actions } = run(plain, [
      { type: 'start', now: 0 },
      { type: 'exit', now: 200, exit: exit1 },
    ]);
    expect(state).toMatchObject({ phase: 'backoff', deaths: 1, lastExit: exit1 });
    expect(actions.slice(2)).toEqual([
      { type: 'restart', delay: 1000, exit: exit1 },
      { type: 'timer', ms: 1000 },
    ]);
    const again = run(plain, [{ type: 'timeout', now: 1200 }], state);
    expect(again.state).toMatchObject({ phase: 'up', startedAt: 1200 });
    expect(again.actions[0]).toEqual({ type: 'spawn' });
  });

  it('backs off exponentially (1, 2, 4, 8 … s) while it keeps dying quickly, capped at 30 s', () => {
    let state = initialState();
    let now = 0;
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const t = run(plain, [{ type: i === 0 ? 'start' : 'timeout', now } as ServiceEvent, { type: 'exit', now: now + 100, exit: exit1 }], state);
      state = t.state;
      const restart = t.actions.find((a) => a.type === 'restart') as { delay: number };
      delays.push(restart.delay);
      now += 100 + restart.delay;
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(BACKOFF_MAX).toBe(30000);
  });

  it('resets the backoff once a run lasted 10 s, keeping the 1 s gap', () => {
    const dying = { ...initialState(), phase: 'up' as const, wantUp: true, deaths: 4, startedAt: 0 };
    const longRun = run(plain, [{ type: 'exit', now: STABLE_RUN, exit: exit1 }], dying);
    expect(longRun.state.deaths).toBe(0);
    expect(longRun.actions[0]).toEqual({ type: 'restart', delay: 0, exit: exit1 });
    const shortRun = run(plain, [{ type: 'exit', now: STABLE_RUN - 1, exit: exit1 }], dying);
    expect(shortRun.state.deaths).toBe(5);
    expect(shortRun.actions[0]).toMatchObject({ delay: 16000 });
  });

  it('resets the backoff once it had been ready for 1 s', () => {
    const s = { ...initialState(), phase: 'up' as const, wantUp: true, deaths: 3, startedAt: 0, readyAt: 500 };
    expect(quickDeath(s, 500 + STABLE_READY - 1)).toBe(true);
    expect(quickDeath(s, 500 + STABLE_READY)).toBe(false);
    const t = run(plain, [{ type: 'exit', now: 1600, exit: exit1 }], s);
    expect(t.state.deaths).toBe(0);
    expect(t.actions[0]).toMatchObject({ type: 'restart', delay: 0 });
  });

  it('never starts twice within MIN_RESTART_GAP, even with no backoff', () => {
    const s = { ...initialState(), phase: 'backoff' as const, deaths: 0, startedAt: 1000 };
    expect(restartDelay(s, 1300)).toBe(MIN_RESTART_GAP - 300);
    expect(restartDelay(s, 5000)).toBe(0);
  });
});

describe('service table: finish', () => {
  const started = () => run(withFinish, [{ type: 'start', now: 0 }]).state;

  it('runs finish with the exit, bounded by timeout-finish, then restarts', () => {
    const killed = { code: null, signal: 'SIGKILL' as const };
    const a = run(withFinish, [{ type: 'exit', now: 100, exit: killed }], started());
    expect(a.state.phase).toBe('finishing');
    expect(a.actions).toEqual([{ type: 'finish', exit: killed }, { type: 'timer', ms: 5000 }]);
    const b = run(withFinish, [{ type: 'finished', now: 150, code: 0 }], a.state);
    expect(b.state.phase).toBe('backoff');
    expect(b.actions[0]).toMatchObject({ type: 'restart', exit: killed, delay: 1000 });
  });

  it('finish exiting 125 means: do not restart (failed)', () => {
    const a = run(withFinish, [
      { type: 'exit', now: 100, exit: { code: 7, signal: null } },
      { type: 'finished', now: 120, code: FINISH_NO_RESTART },
    ], started());
    expect(a.state).toMatchObject({ phase: 'failed', wantUp: false });
    expect(a.actions.at(-1)).toEqual({ type: 'failed', exit: { code: 7, signal: null } });
    expect(run(withFinish, [{ type: 'timeout', now: 5000 }], a.state).actions).toEqual([]);
  });

  it('kills a finish script that outlives timeout-finish', () => {
    const a = run(withFinish, [{ type: 'exit', now: 100, exit: exit1 }, { type: 'timeout', now: 5100 }], started());
    expect(a.state.phase).toBe('finishing');
    expect(a.actions.at(-1)).toEqual({ type: 'killFinish' });
  });
});

describe('service table: stop', () => {
  it('without a timeout-kill (s6: none, or 0) sends the down-signal and never sets a SIGKILL timer', () => {
    const up = run(plain, [{ type: 'start', now: 0 }]).state;
    const a = run({ ...plain, timeoutKill: undefined }, [{ type: 'stop', now: 10 }], up);
    expect(a.state.phase).toBe('stopping');
    expect(a.actions).toEqual([{ type: 'signal', signal: 'SIGTERM' }]);
  });

  it('sends the down-signal, SIGKILL after timeout-kill, and reports how it answered', () => {
    const up = run(plain, [{ type: 'start', now: 0 }]).state;
    const a = run({ ...plain, downSignal: 'SIGINT', timeoutKill: 250 }, [{ type: 'stop', now: 10 }], up);
    expect(a.state).toMatchObject({ phase: 'stopping', wantUp: false });
    expect(a.actions).toEqual([{ type: 'signal', signal: 'SIGINT' }, { type: 'timer', ms: 250 }]);
    const b = run(plain, [{ type: 'timeout', now: 260 }], a.state);
    expect(b.actions).toEqual([{ type: 'kill' }]);
    const killed = { code: null, signal: 'SIGKILL' as const };
    const c = run(plain, [{ type: 'exit', now: 270, exit: killed }], b.state);
    expect(c.state.phase).toBe('stopped');
    expect(c.actions).toEqual([{ type: 'stopped', exit: killed }]);
  });

  it('runs finish after a stop, then stops for good whatever finish says', () => {
    const up = run(withFinish, [{ type: 'start', now: 0 }]).state;
    const a = run(withFinish, [
      { type: 'stop', now: 10 },
      { type: 'exit', now: 20, exit: { code: 0, signal: null } },
    ], up);
    expect(a.state.phase).toBe('finishing');
    const b = run(withFinish, [{ type: 'finished', now: 30, code: 0 }], a.state);
    expect(b.state.phase).toBe('stopped');
    expect(b.actions).toEqual([{ type: 'stopped', exit: { code: 0, signal: null } }]);
  });

  it('a stop during finish (after a crash) ends stopped, with no stop exit to report', () => {
    const up = run(withFinish, [{ type: 'start', now: 0 }]).state;
    const a = run(withFinish, [
      { type: 'exit', now: 20, exit: exit1 },
      { type: 'stop', now: 25 },
      { type: 'finished', now: 30, code: 0 },
    ], up);
    expect(a.state.phase).toBe('stopped');
    expect(a.actions.at(-1)).toEqual({ type: 'stopped', exit: undefined });
  });

  it('a stop during the backoff cancels the restart (no exit to report)', () => {
    const a = run(plain, [{ type: 'start', now: 0 }, { type: 'exit', now: 10, exit: exit1 }, { type: 'stop', now: 20 }]);
    expect(a.state.phase).toBe('stopped');
    expect(a.actions.at(-1)).toEqual({ type: 'stopped', exit: undefined });
    expect(run(plain, [{ type: 'timeout', now: 2000 }], a.state).actions).toEqual([]);
  });

  it('stopping a service that never started (down) is immediate', () => {
    const a = run(plain, [{ type: 'stop', now: 0 }]);
    expect(a.state.phase).toBe('stopped');
    expect(a.actions).toEqual([{ type: 'stopped', exit: undefined }]);
  });

  describe('crash loop (death tally)', () => {
    const looping: ServicePolicy = { ...notifying, crashLoop: { deaths: 3, windowMs: 60_000 } };

    /** dies starts (or restarts) the service and lets it exit at once, `n` times from `t0`, each after its backoff. */
    function dies(n: number, from: ServiceState = initialState(), t0 = 0) {
      let state = from;
      let now = t0;
      const actions: ServiceAction[] = [];
      for (let i = 0; i < n; i++) {
        const startEvent: ServiceEvent = state.phase === 'backoff' ? { type: 'timeout', now } : { type: 'start', now };
        const r = run(looping, [startEvent, { type: 'exit', now: now + 10, exit: exit1 }], state);
        state = r.state;
        actions.push(...r.actions);
        const restart = r.actions.find((a) => a.type === 'restart');
        now += 10 + (restart && restart.type === 'restart' ? restart.delay : 0);
      }
      return { state, actions, now };
    }

    it('N deaths within the window mark the service unhealthy, once, with the last exit; restarts go on', () => {
      const two = dies(2);
      expect(two.state.unhealthy).toBe(false);
      expect(two.actions.some((a) => a.type === 'crashLoop')).toBe(false);
      const three = dies(1, two.state, two.now);
      expect(three.state.unhealthy).toBe(true);
      expect(three.actions.filter((a) => a.type === 'crashLoop')).toEqual([{ type: 'crashLoop', deaths: 3, windowMs: 60_000, exit: exit1 }]);
      expect(three.state.phase).toBe('backoff');
      const more = dies(3, three.state, three.now);
      expect(more.actions.some((a) => a.type === 'crashLoop')).toBe(false);
      expect(more.actions.filter((a) => a.type === 'spawn')).toHaveLength(3);
    });

    it('max-death-tally caps the deaths on record: fewer than N kept is never a crash loop', () => {
      for (const maxDeathTally of [0, 2]) {
        const capped: ServicePolicy = { ...looping, maxDeathTally };
        let state = initialState();
        let now = 0;
        for (let i = 0; i < 5; i++) {
          const startEvent: ServiceEvent = state.phase === 'backoff' ? { type: 'timeout', now } : { type: 'start', now };
          const r = run(capped, [startEvent, { type: 'exit', now: now + 10, exit: exit1 }], state);
          state = r.state;
          expect(r.actions.some((a) => a.type === 'crashLoop')).toBe(false);
          expect(state.deathTimes.length).toBeLessThanOrEqual(maxDeathTally);
          now += 10_000;
        }
      }
    });

    it('deaths spread wider than the window are no crash loop', () => {
      let state = initialState();
      for (const t of [0, 40_000, 80_000, 120_000]) {
        const startEvent: ServiceEvent = state.phase === 'backoff' ? { type: 'timeout', now: t } : { type: 'start', now: t };
        state = run(looping, [startEvent, { type: 'exit', now: t + 10, exit: exit1 }], state).state;
      }
      expect(state.unhealthy).toBe(false);
    });

    it('the backoff of a crash-looping service is capped at BACKOFF_MAX', () => {
      const r = dies(12);
      const delays = r.actions.flatMap((a) => (a.type === 'restart' ? [a.delay] : []));
      expect(Math.max(...delays)).toBe(BACKOFF_MAX);
      expect(delays.at(-1)).toBe(BACKOFF_MAX);
    });

    it('an unhealthy service ready for HEALTHY_AFTER recovers: healthy again, tally cleared', () => {
      const sick = dies(3).state;
      const back = run(looping, [{ type: 'timeout', now: 100_000 }], sick);
      expect(back.actions).toEqual([{ type: 'spawn' }]);
      const ready = run(looping, [{ type: 'ready', now: 100_100 }], back.state);
      expect(ready.actions).toEqual([{ type: 'ready' }, { type: 'timer', ms: HEALTHY_AFTER }]);
      const healthy = run(looping, [{ type: 'timeout', now: 100_100 + HEALTHY_AFTER }], ready.state);
      expect(healthy.actions).toEqual([{ type: 'recovered' }]);
      expect(healthy.state).toMatchObject({ phase: 'up', unhealthy: false, deathTimes: [] });
    });

    it('an unhealthy service that dies again stays unhealthy and is not reported again', () => {
      const sick = dies(3).state;
      const back = run(looping, [{ type: 'timeout', now: 100_000 }, { type: 'ready', now: 100_100 }], sick);
      const died = run(looping, [{ type: 'exit', now: 105_000, exit: exit1 }], back.state);
      expect(died.actions.some((a) => a.type === 'recovered' || a.type === 'crashLoop')).toBe(false);
      expect(died.state).toMatchObject({ phase: 'backoff', unhealthy: true });
    });

    it('without a crash-loop policy nothing is tallied', () => {
      let state = initialState();
      for (let i = 0; i < 6; i++) state = run(plain, [{ type: state.phase === 'backoff' ? 'timeout' : 'start', now: i * 100 }, { type: 'exit', now: i * 100 + 10, exit: exit1 }], state).state;
      expect(state).toMatchObject({ unhealthy: false, deathTimes: [] });
    });
  });
});

describe('service table: once (s6-svc -o)', () => {
  it('starts a down service that is not restarted when it exits; finish still runs', () => {
    const started = run(plain, [{ type: 'once', now: 0 }]);
    expect(started.state).toMatchObject({ phase: 'up', wantUp: false });
    expect(started.actions.map((a) => a.type)).toEqual(['spawn', 'ready']);
    const exited = run(plain, [{ type: 'exit', now: 5, exit: exit1 }], started.state);
    expect(exited.state.phase).toBe('stopped');
    expect(exited.actions.map((a) => a.type)).toEqual(['stopped']);
    const finished = run(withFinish, [{ type: 'once', now: 0 }, { type: 'exit', now: 5, exit: exit1 }, { type: 'finished', now: 6, code: 0 }]);
    expect(finished.state.phase).toBe('stopped');
    expect(finished.actions.map((a) => a.type)).toEqual(['spawn', 'ready', 'finish', 'timer', 'stopped']);
  });

  it('marks a running service not to be restarted, without signalling it', () => {
    const up = run(plain, [{ type: 'start', now: 0 }]).state;
    const marked = run(plain, [{ type: 'once', now: 1 }], up);
    expect(marked).toEqual({ state: { ...up, wantUp: false }, actions: [] });
    expect(run(plain, [{ type: 'exit', now: 2, exit: exit1 }], marked.state).state.phase).toBe('stopped');
  });
});
