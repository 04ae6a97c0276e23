/**
 * sv-status: what s6-svstat and s6-svwait read of one of the init's services, in s6's terms
 * — up or down, wanted up, normally up, ready, paused, pid, last exit, and since when — as
 * the init answers it on its scan directories' control socket (svscan.ts). Times are Unix
 * milliseconds, so the reader computes "for how long" itself.
 */
import { nowMs } from '../clock.js';
import type { Service } from './service.js';
import { isRunning } from './service.js';

/** SvStatus is one service's state as s6-supervise's status file would hold it. */
export interface SvStatus {
  up: boolean;
  wantedUp: boolean;
  normallyUp: boolean;
  /** ready: up and ready (notification-fd), or down with `finish` done (s6: ready to be brought up). */
  ready: boolean;
  paused: boolean;
  /** pid of the running `run`, -1 when down. */
  pid: number;
  /** exitcode of the last run when down and it exited, else -1. */
  exitcode: number;
  /** signal that killed the last run when down, else null. */
  signal: NodeJS.Signals | null;
  /** updownSince is when it last came up or went down; readySince when it last became ready (Unix ms). */
  updownSince: number;
  readySince: number;
  /** startedAt is when `run` was last started (Unix ms; 0: never), for s6-svwait -r. */
  startedAt: number;
  /** failed: down for good (`finish` exited 125), for s6-svwait's permanent failures. */
  failed: boolean;
}

/** svStatus reads `service` as s6-svstat would see it; `perfNow` and `unixNow` are the same instant on both clocks. */
export function svStatus(service: Service, perfNow = nowMs(), unixNow = Date.now()): SvStatus {
  const state = service.state;
  const times = service.times;
  const up = isRunning(state.phase);
  const unix = (t: number | undefined): number => (t === undefined ? 0 : Math.round(unixNow - (perfNow - t)));
  const ready = up ? state.readyAt !== undefined : state.phase !== 'finishing';
  const last = state.lastExit;
  return {
    up,
    wantedUp: state.wantUp,
    normallyUp: !service.def.down,
    ready,
    paused: up && times.paused,
    pid: up ? (service.pid ?? -1) : -1,
    exitcode: !up && last && last.signal === null && last.code !== null ? last.code : -1,
    signal: !up && last ? last.signal : null,
    updownSince: unix(times.upDownAt),
    readySince: ready ? unix(up ? state.readyAt : times.downReadyAt) : 0,
    startedAt: unix(state.startedAt),
    failed: state.phase === 'failed',
  };
}
