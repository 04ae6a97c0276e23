/**
 * service-table: one supervised service as an explicit state machine, in the manner of
 * s6-supervise. `transition(policy, state, event)` is pure: it returns the next state and
 * the actions to carry out (spawn, signal, start a timer …); service.ts performs them with
 * real processes. The restart policy is rows of TABLE, not scattered conditions.
 *
 * Phases:
 *   down       never started (a `down` file, or before boot)
 *   starting   running, waiting for its readiness newline (only with a notification-fd)
 *   up         running (and ready)
 *   stopping   stop signal sent; a timer escalates to SIGKILL
 *   finishing  `finish` runs after an exit; a timer kills it
 *   backoff    waiting to restart
 *   failed     will not be restarted (`finish` exited 125)
 *   stopped    stopped on request; final
 *
 * A timer belongs to the phase that set it: service.ts clears it on every phase change.
 *
 * Crash loops (s6's max-death-tally idea): with a `crashLoop` policy, every unrequested
 * exit is tallied; `deaths` of them within `windowMs` mark the service `unhealthy` (action
 * `crashLoop`, once). It stays unhealthy until a run is ready for HEALTHY_AFTER (action
 * `recovered`, from a timer in `up`). Restarts go on all the while, at most BACKOFF_MAX apart.
 */

/** MIN_RESTART_GAP is the least time between two starts of one service (as s6-supervise). */
export const MIN_RESTART_GAP = 1_000;

/** BACKOFF_BASE is the first restart delay of a service that keeps dying quickly. */
export const BACKOFF_BASE = 1_000;

/** BACKOFF_MAX caps the exponential restart delay. */
export const BACKOFF_MAX = 30_000;

/** STABLE_RUN resets the backoff: a service that ran this long did not die "quickly". */
export const STABLE_RUN = 10_000;

/** STABLE_READY resets the backoff too: a service that was ready this long is healthy. */
export const STABLE_READY = 1_000;

/**
 * HEALTHY_AFTER ends a crash loop's unhealthy mark: a run ready this long. Longer than
 * STABLE_READY: a service that dies a few seconds after each start must not flap between
 * healthy and unhealthy.
 */
export const HEALTHY_AFTER = 30_000;

/** FINISH_NO_RESTART is the `finish` exit code that means "do not restart" (s6). */
export const FINISH_NO_RESTART = 125;

/** Phase is where a service is in its life. */
export type Phase = 'down' | 'starting' | 'up' | 'stopping' | 'finishing' | 'backoff' | 'failed' | 'stopped';

/** Exit is how a process ended: a code, or the name of the signal that killed it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** CrashLoopPolicy: `deaths` unrequested exits within `windowMs` make a crash loop. */
export interface CrashLoopPolicy {
  deaths: number;
  windowMs: number;
}

/** ServicePolicy is what the table needs to know of a service definition. */
export interface ServicePolicy {
  hasFinish: boolean;
  notifies: boolean;
  downSignal: NodeJS.Signals;
  /** timeoutKill is ms from the down-signal to SIGKILL; undefined: never (s6 without a timeout-kill file). */
  timeoutKill?: number;
  timeoutFinish: number;
  /** maxDeathTally caps the deaths on record (s6's max-death-tally); 0 keeps none, so no crash loop is seen. */
  maxDeathTally?: number;
  /** crashLoop turns on the death tally (none: never unhealthy). */
  crashLoop?: CrashLoopPolicy;
}

/** ServiceState is the whole state of one service; times are ms on any monotonic clock. */
export interface ServiceState {
  phase: Phase;
  wantUp: boolean;
  /** deaths counts consecutive quick deaths; it sets the backoff. */
  deaths: number;
  startedAt?: number;
  readyAt?: number;
  lastExit?: Exit;
  /** stopExit is the exit that answered the stop signal (absent if it was not running). */
  stopExit?: Exit;
  /** deathTimes are the times of the unrequested exits inside the crash-loop window. */
  deathTimes: number[];
  /** unhealthy is set by a crash loop and cleared by a stable run: what a health check reads. */
  unhealthy: boolean;
}

/** ServiceEvent is something that happened to a service (`now` is the clock at that time). */
export type ServiceEvent =
  | { type: 'start'; now: number }
  | { type: 'stop'; now: number }
  | { type: 'once'; now: number }
  | { type: 'ready'; now: number }
  | { type: 'exit'; now: number; exit: Exit }
  | { type: 'finished'; now: number; code: number | null }
  | { type: 'timeout'; now: number };

/** ServiceAction is one thing for service.ts to do. */
export type ServiceAction =
  | { type: 'spawn' }
  | { type: 'ready' }
  | { type: 'signal'; signal: NodeJS.Signals }
  | { type: 'kill' }
  | { type: 'finish'; exit: Exit }
  | { type: 'killFinish' }
  | { type: 'timer'; ms: number }
  | { type: 'restart'; delay: number; exit: Exit }
  | { type: 'failed'; exit: Exit }
  | { type: 'crashLoop'; deaths: number; windowMs: number; exit: Exit }
  | { type: 'recovered' }
  | { type: 'stopped'; exit?: Exit };  // exit: how it answered the stop, if it was running

/** Transition is the outcome of one event. */
export interface Transition {
  state: ServiceState;
  actions: ServiceAction[];
}

type Guard = (p: ServicePolicy, s: ServiceState, e: ServiceEvent) => boolean;
type Effect = (p: ServicePolicy, s: ServiceState, e: ServiceEvent) => Transition;

/** Row is one line of the table: in phases `from`, on event `on`, if `when`, do `then`. */
interface Row {
  from: Phase[];
  on: ServiceEvent['type'];
  when?: Guard;
  then: Effect;
}

const notifies: Guard = (p) => p.notifies;
const silent: Guard = (p) => !p.notifies;
const hasFinish: Guard = (p) => p.hasFinish;
const noFinish: Guard = (p) => !p.hasFinish;
const wantDown: Guard = (_p, s) => !s.wantUp;
const finishSaysNo: Guard = (_p, _s, e) => e.type === 'finished' && e.code === FINISH_NO_RESTART;
const unhealthy: Guard = (_p, s) => s.unhealthy;

const TABLE: Row[] = [
  // Start (or restart after the backoff): spawn; up at once unless readiness is notified.
  { from: ['down', 'stopped', 'failed'], on: 'start', when: notifies, then: (_p, s, e) => spawn(s, e, 'starting') },
  { from: ['down', 'stopped', 'failed'], on: 'start', when: silent, then: (_p, s, e) => spawn(s, e, 'up') },
  { from: ['backoff'], on: 'timeout', when: notifies, then: (_p, s, e) => spawn(s, e, 'starting') },
  { from: ['backoff'], on: 'timeout', when: silent, then: (_p, s, e) => spawn(s, e, 'up') },
  { from: ['starting'], on: 'ready', then: (_p, s, e) => up({ ...s, phase: 'up', readyAt: e.now }, { type: 'ready' }) },
  // An unhealthy service that stayed up: healthy again.
  { from: ['up'], on: 'timeout', when: unhealthy, then: (_p, s) => go({ ...s, unhealthy: false, deathTimes: [] }, { type: 'recovered' }) },
  // Once (s6-svc -o): start it if down, and never restart it; an exit while so marked ends it.
  { from: ['down', 'stopped', 'failed', 'backoff'], on: 'once', when: notifies, then: (_p, s, e) => once(spawn(s, e, 'starting')) },
  { from: ['down', 'stopped', 'failed', 'backoff'], on: 'once', when: silent, then: (_p, s, e) => once(spawn(s, e, 'up')) },
  { from: ['starting', 'up', 'finishing'], on: 'once', then: (_p, s) => go({ ...s, wantUp: false }) },
  { from: ['starting', 'up'], on: 'exit', when: (p, s) => !s.wantUp && p.hasFinish, then: (p, s, e) => finish(p, exited(s, e)) },
  { from: ['starting', 'up'], on: 'exit', when: wantDown, then: (_p, s, e) => stopped(exited(s, e)) },
  // An exit while wanted up: tally it, then run `finish`, or go straight to the backoff.
  { from: ['starting', 'up'], on: 'exit', when: hasFinish, then: (p, s, e) => died(p, s, e, (d) => finish(p, d)) },
  { from: ['starting', 'up'], on: 'exit', when: noFinish, then: (p, s, e) => died(p, s, e, (d) => backoff(d, e.now)) },
  // `finish` decides: 125 means never again; otherwise restart after the backoff.
  { from: ['finishing'], on: 'finished', when: wantDown, then: (_p, s) => stopped(s) },
  { from: ['finishing'], on: 'finished', when: finishSaysNo, then: (_p, s) => failed(s) },
  { from: ['finishing'], on: 'finished', then: (_p, s, e) => backoff(s, e.now) },
  { from: ['finishing'], on: 'timeout', then: (_p, s) => go(s, { type: 'killFinish' }) },
  // Stop: down-signal, then SIGKILL after timeout-kill; `finish` still runs after the exit.
  { from: ['starting', 'up'], on: 'stop', then: (p, s) => stopSignal(p, s) },
  { from: ['stopping'], on: 'timeout', then: (_p, s) => go(s, { type: 'kill' }) },
  { from: ['stopping'], on: 'exit', when: hasFinish, then: (p, s, e) => finish(p, exitedOnStop(s, e)) },
  { from: ['stopping'], on: 'exit', when: noFinish, then: (_p, s, e) => stopped(exitedOnStop(s, e)) },
  { from: ['finishing'], on: 'stop', then: (_p, s) => go({ ...s, wantUp: false }) },
  { from: ['down', 'backoff', 'failed'], on: 'stop', then: (_p, s) => stopped({ ...s, wantUp: false }) },
];

/** initialState is a service that has not been started. */
export function initialState(): ServiceState {
  return { phase: 'down', wantUp: false, deaths: 0, deathTimes: [], unhealthy: false };
}

/** transition applies `event` to `state`; an event with no row leaves the state unchanged. */
export function transition(policy: ServicePolicy, state: ServiceState, event: ServiceEvent): Transition {
  for (const row of TABLE) {
    if (row.on !== event.type || !row.from.includes(state.phase)) continue;
    if (row.when && !row.when(policy, state, event)) continue;
    return row.then(policy, state, event);
  }
  return { state, actions: [] };
}

/** restartDelay is the wait before the next start: the backoff, and never under MIN_RESTART_GAP since the last start. */
export function restartDelay(state: ServiceState, now: number): number {
  const backoff = state.deaths === 0 ? 0 : Math.min(BACKOFF_BASE * 2 ** (state.deaths - 1), BACKOFF_MAX);
  const gap = state.startedAt === undefined ? 0 : state.startedAt + MIN_RESTART_GAP - now;
  return Math.max(backoff, gap, 0);
}

/** quickDeath reports whether a run that ended at `now` counts toward the backoff. */
export function quickDeath(state: ServiceState, now: number): boolean {
  const ranLong = state.startedAt !== undefined && now - state.startedAt >= STABLE_RUN;
  const readyLong = state.readyAt !== undefined && now - state.readyAt >= STABLE_READY;
  return !ranLong && !readyLong;
}

function go(state: ServiceState, ...actions: ServiceAction[]): Transition {
  return { state, actions };
}

/** once keeps a spawn's actions but marks the service not to be restarted. */
function once(t: Transition): Transition {
  return { state: { ...t.state, wantUp: false }, actions: t.actions };
}

function spawn(s: ServiceState, e: ServiceEvent, phase: 'starting' | 'up'): Transition {
  const next: ServiceState = { ...s, phase, wantUp: true, startedAt: e.now, readyAt: undefined, stopExit: undefined };
  return phase === 'up' ? up({ ...next, readyAt: e.now }, { type: 'spawn' }, { type: 'ready' }) : go(next, { type: 'spawn' });
}

/** up enters `up`; an unhealthy service gets a timer: ready HEALTHY_AFTER, it has recovered. */
function up(s: ServiceState, ...actions: ServiceAction[]): Transition {
  return s.unhealthy ? go(s, ...actions, { type: 'timer', ms: HEALTHY_AFTER }) : go(s, ...actions);
}

function exited(s: ServiceState, e: ServiceEvent): ServiceState {
  return e.type === 'exit' ? { ...s, lastExit: e.exit } : s;
}

function exitedOnStop(s: ServiceState, e: ServiceEvent): ServiceState {
  return e.type === 'exit' ? { ...s, lastExit: e.exit, stopExit: e.exit } : s;
}

/**
 * died records an unrequested exit: counts it as a quick death (or resets the count),
 * tallies it in the crash-loop window, and continues with `then`; a tally that reaches the
 * policy's deaths marks the service unhealthy and adds a `crashLoop` action first.
 */
function died(p: ServicePolicy, s: ServiceState, e: ServiceEvent, then: (s: ServiceState) => Transition): Transition {
  const deaths = quickDeath(s, e.now) ? s.deaths + 1 : 0;
  const loop = p.crashLoop;
  const cap = p.maxDeathTally ?? Infinity;
  const deathTimes = loop && cap > 0 ? [...s.deathTimes.filter((t) => e.now - t < loop.windowMs), e.now].slice(-cap) : [];
  const trips = loop !== undefined && !s.unhealthy && deathTimes.length >= loop.deaths;
  const next = then({ ...exited(s, e), deaths, deathTimes, unhealthy: s.unhealthy || trips });
  if (!trips) return next;
  const exit = e.type === 'exit' ? e.exit : { code: null, signal: null };
  return { state: next.state, actions: [{ type: 'crashLoop', deaths: deathTimes.length, windowMs: loop.windowMs, exit }, ...next.actions] };
}

function finish(p: ServicePolicy, s: ServiceState): Transition {
  const exit = s.lastExit ?? { code: null, signal: null };
  return go({ ...s, phase: 'finishing' }, { type: 'finish', exit }, { type: 'timer', ms: p.timeoutFinish });
}

function backoff(s: ServiceState, now: number): Transition {
  const delay = restartDelay(s, now);
  const exit = s.lastExit ?? { code: null, signal: null };
  return go({ ...s, phase: 'backoff' }, { type: 'restart', delay, exit }, { type: 'timer', ms: delay });
}

function failed(s: ServiceState): Transition {
  return go({ ...s, phase: 'failed', wantUp: false }, { type: 'failed', exit: s.lastExit ?? { code: null, signal: null } });
}

function stopped(s: ServiceState): Transition {
  return go({ ...s, phase: 'stopped', wantUp: false }, { type: 'stopped', exit: s.stopExit });
}

function stopSignal(p: ServicePolicy, s: ServiceState): Transition {
  const next: ServiceState = { ...s, phase: 'stopping', wantUp: false };
  if (p.timeoutKill === undefined) return go(next, { type: 'signal', signal: p.downSignal });
  return go(next, { type: 'signal', signal: p.downSignal }, { type: 'timer', ms: p.timeoutKill });
}
