import { describe, expect, it } from 'vitest';
import { serviceRows, type ServiceView } from '../../src/supervisor/service-rows.js';
import { initialState, type ServiceState } from '../../src/supervisor/service-table.js';

function view(name: string, state: Partial<ServiceState>, pid?: number): ServiceView {
  return { name, state: { ...initialState(), ...state }, pid };
}

describe('serviceRows', () => {
  it('a running service: its pid, the time since its current start, restarts, how its last run ended', () => {
    const views = [view('replicate', { phase: 'up', startedAt: 1_000 }, 41), view('web', { phase: 'starting', startedAt: 4_000.4, lastExit: { code: null, signal: 'SIGKILL' } }, 42)];
    const rows = serviceRows(['replicate', 'web'], views, new Map([['web', 1]]), 5_000);
    expect(rows).toEqual([
      { name: 'replicate', state: 'up', pid: 41, uptime_ms: 4_000, restarts: 0, last_exit: null, unhealthy: false },
      { name: 'web', state: 'starting', pid: 42, uptime_ms: 1_000, restarts: 1, last_exit: 'signal SIGKILL', unhealthy: false },
    ]);
  });

  it('no process in backoff, finishing or failed: no pid, no uptime; a crash loop shows', () => {
    const views = [
      view('a', { phase: 'backoff', startedAt: 1, lastExit: { code: 3, signal: null }, unhealthy: true }, 7),
      view('b', { phase: 'finishing', startedAt: 1, lastExit: { code: 0, signal: null } }, 8),
      view('c', { phase: 'failed', startedAt: 1 }, 9),
    ];
    const rows = serviceRows(['a', 'b', 'c'], views, new Map([['a', 5]]), 10);
    expect(rows.map((r) => [r.state, r.pid, r.uptime_ms, r.restarts, r.last_exit, r.unhealthy])).toEqual([
      ['backoff', null, null, 5, 'code 3', true],
      ['finishing', null, null, 0, 'code 0', false],
      ['failed', null, null, 0, null, false],
    ]);
  });

  it('a service not started yet (or marked down) is down; rows follow the names’ order', () => {
    const rows = serviceRows(['late', 'web'], [view('web', { phase: 'up', startedAt: 0 }, 5)], new Map(), 1);
    expect(rows[0]).toEqual({ name: 'late', state: 'down', pid: null, uptime_ms: null, restarts: 0, last_exit: null, unhealthy: false });
    expect(rows[1].name).toBe('web');
  });
});
