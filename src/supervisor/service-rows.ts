/**
 * service-rows: the init's services as rows of the status document (`services`, status.ts)
 * — each one's phase, process, time since its current run started, restarts and last exit —
 * for `/status` and the status page. Pure: the services and the clock are given.
 */
import { nowMs } from '../clock.js';
import type { ServiceStatus } from '../replicator/status.js';
import type { Phase, ServiceState } from './service-table.js';

/** ServiceView is a supervised service as the rows read it (a Service is one). */
export interface ServiceView {
  readonly name: string;
  readonly state: Readonly<Pick<ServiceState, 'phase' | 'startedAt' | 'lastExit' | 'unhealthy'>>;
  /** pid is its last run's process id (undefined before any). */
  readonly pid: number | undefined;
}

/** RUNNING are the phases in which the service's `run` process lives. */
const RUNNING: readonly Phase[] = ['starting', 'up', 'stopping'];

/**
 * serviceRows are the rows of the services `names`, in that order: each from its view (by
 * name), or `down` when it has none yet (not started). `restarts` counts each one's
 * restarts; `now` is on the views' clock (nowMs()).
 */
export function serviceRows(names: readonly string[], views: readonly ServiceView[], restarts: ReadonlyMap<string, number>, now: number): ServiceStatus[] {
  return names.map((name) => {
    const view = views.find((v) => v.name === name);
    const s = view?.state;
    const running = s !== undefined && RUNNING.includes(s.phase);
    return {
      name,
      state: s?.phase ?? 'down',
      pid: running && view?.pid !== undefined ? view.pid : null,
      uptime_ms: running && s.startedAt !== undefined ? Math.max(0, Math.round(now - s.startedAt)) : null,
      restarts: restarts.get(name) ?? 0,
      last_exit: s?.lastExit ? (s.lastExit.signal ? `signal ${s.lastExit.signal}` : `code ${s.lastExit.code ?? '?'}`) : null,
      unhealthy: s?.unhealthy ?? false,
    };
  });
}
