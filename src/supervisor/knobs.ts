/**
 * knobs: every `LIFEBOAT_*` environment setting of the init, its default named once here,
 * parsed and validated in one place. A bad value is a ConfigError naming the variable and
 * the value (the init exits 2). `LIFEBOAT_CONFIG` is resolved by src/config/load.ts.
 */
import { ConfigError } from '../errors.js';
import { readS6Knobs } from './s6-knobs.js';

/** DEFAULT_SERVICES_DIR holds one directory per longrun service (`LIFEBOAT_SERVICES_DIR`). */
export const DEFAULT_SERVICES_DIR = '/etc/services.d';

/** DEFAULT_CONT_INIT_DIR holds scripts run once, in lexical order, before anything starts. */
export const DEFAULT_CONT_INIT_DIR = '/etc/cont-init.d';

/** DEFAULT_CONT_FINISH_DIR holds scripts run once, in lexical order, after everything stopped. */
export const DEFAULT_CONT_FINISH_DIR = '/etc/cont-finish.d';

/** DEFAULT_FIX_ATTRS_DIR is s6-overlay v2's ownership and mode settings, which Lifeboat does not read (it is only named). */
export const DEFAULT_FIX_ATTRS_DIR = '/etc/fix-attrs.d';

/** DEFAULT_S6_OVERLAY_DIR holds the s6-overlay v3 tree, `s6-rc.d/` (`LIFEBOAT_S6_OVERLAY_DIR`). */
export const DEFAULT_S6_OVERLAY_DIR = '/etc/s6-overlay';

/** DEFAULT_BEHAVIOUR_IF_INIT_FAILS: 0 continue, 1 warn and continue, 2 stop (exit 111). */
export const DEFAULT_BEHAVIOUR_IF_INIT_FAILS = 2;

/** DEFAULT_READY_TIMEOUT bounds the wait for the replicator (and notifying services) to be ready. */
export const DEFAULT_READY_TIMEOUT = 30_000;

/** DEFAULT_APP_GRACETIME is how long the app may take to exit after the stop signal. */
export const DEFAULT_APP_GRACETIME = 4_000;

/** DEFAULT_SERVICES_GRACETIME is a service's time after its down-signal before SIGKILL. */
export const DEFAULT_SERVICES_GRACETIME = 1_000;

/** DEFAULT_SYNC_GRACETIME is the replicator's budget for its final sync before SIGKILL. */
export const DEFAULT_SYNC_GRACETIME = 4_000;

/** DEFAULT_KILL_GRACETIME is the wait between TERM and KILL for leftover descendants. */
export const DEFAULT_KILL_GRACETIME = 500;

/** DEFAULT_CONT_FINISH_TIMEOUT bounds each `cont-finish.d` script (then SIGKILL). */
export const DEFAULT_CONT_FINISH_TIMEOUT = 5_000;

/** DEFAULT_LOG_PREFIX: services' output lines are prefixed `name | `. */
export const DEFAULT_LOG_PREFIX = true;

/** DEFAULT_CRASH_LOOP_DEATHS: this many exits of one service within the window is a crash loop. */
export const DEFAULT_CRASH_LOOP_DEATHS = 5;

/** DEFAULT_CRASH_LOOP_WINDOW is the window (ms) in which those exits are counted. */
export const DEFAULT_CRASH_LOOP_WINDOW = 120_000;

/** DEFAULT_STOP_ON_CRASH_LOOP: a replicator crash loop is logged and marked, the app keeps running. */
export const DEFAULT_STOP_ON_CRASH_LOOP = false;

/**
 * CONTAINER_ENV_DIRS are where s6-overlay keeps the container's environment (v3, v2): the
 * init saves it there when it is PID 1, for `with-contenv` (container-env.ts).
 */
export const CONTAINER_ENV_DIRS: readonly string[] = ['/run/s6/container_environment', '/var/run/s6/container_environment'];

/**
 * SCAN_DIRS are where s6-overlay's service directories are (v3, v2): as PID 1 the init makes
 * one directory per service there, for s6-svc, s6-svstat, s6-svwait and s6-svscanctl (svscan.ts).
 */
export const SCAN_DIRS: readonly string[] = ['/run/service', '/var/run/s6/services'];

/**
 * TEST_FAIL_MODES: `LIFEBOAT_TEST_FAIL` makes the init throw (`uncaught`) or reject
 * (`rejection`) once the app has started, to test its last-resort handler. Test only.
 */
export const TEST_FAIL_MODES = ['uncaught', 'rejection'] as const;

/** InitFailBehaviour is s6-overlay's S6_BEHAVIOUR_IF_STAGE2_FAILS scale. */
export type InitFailBehaviour = 0 | 1 | 2;

/** Knobs are the init's settings from the environment, defaults filled in (durations in ms). */
export interface Knobs {
  servicesDir: string;
  /** s6OverlayDir is the base of the v3 tree (`s6-rc.d/` under it). */
  s6OverlayDir: string;
  contInitDir: string;
  contFinishDir: string;
  /** fixAttrsDir is s6-overlay v2's fix-attrs.d (LIFEBOAT_FIX_ATTRS_DIR): not read; the init says so when it holds files. */
  fixAttrsDir: string;
  behaviourIfInitFails: InitFailBehaviour;
  readyTimeout: number;
  appGrace: number;
  servicesGrace: number;
  syncGrace: number;
  killGrace: number;
  contFinishTimeout: number;
  logPrefix: boolean;
  crashLoopDeaths: number;
  crashLoopWindow: number;
  /** stopOnCrashLoop takes the container down (exit 111) when the replicator crash-loops. */
  stopOnCrashLoop: boolean;
  /** containerEnvDirs are where the init saves its environment (LIFEBOAT_CONTAINER_ENV_DIR, S6_KEEP_ENV); none: not saved. */
  containerEnvDirs: readonly string[];
  /** bootTimeout bounds the boot until the app starts (S6_CMD_WAIT_FOR_SERVICES_MAXTIME; undefined or 0: none). */
  bootTimeout?: number;
  /** syncDisks: sync() the file systems at the end of the shutdown (S6_SYNC_DISKS). */
  syncDisks: boolean;
  /** cmdArg0 is prepended to the app's command line when there is one (S6_CMD_ARG0). */
  cmdArg0: string[];
  /** cmdReceivesSignals: the stop and forward signals go to the app while it runs (S6_CMD_RECEIVE_SIGNALS). */
  cmdReceivesSignals: boolean;
  /** stage2Hook is run (split on blanks) before anything else of the boot (S6_STAGE2_HOOK). */
  stage2Hook?: string;
  /** scanDirs are where the init makes its services' s6 directories (LIFEBOAT_SCAN_DIRS); none: not made. */
  scanDirs: readonly string[];
  /** testFail is the test-only failure hook (LIFEBOAT_TEST_FAIL); never set it in production. */
  testFail?: (typeof TEST_FAIL_MODES)[number];
}

/**
 * readKnobs parses the `LIFEBOAT_*` variables of `env` for an init of process id `pid`,
 * and the `S6_*` ones (s6-knobs.ts): an S6 variable gives the value of the LIFEBOAT knob of
 * the same meaning, which wins when both are set. Throws ConfigError on a bad value.
 */
export function readKnobs(env: NodeJS.ProcessEnv = process.env, pid = process.pid): Knobs {
  const s6 = readS6Knobs(env);
  const profile = s6.runtimeProfile === undefined ? DEFAULT_S6_OVERLAY_DIR : `/etc/cont-profile.d/${s6.runtimeProfile}/s6-overlay`;
  return {
    servicesDir: dir(env, 'LIFEBOAT_SERVICES_DIR', DEFAULT_SERVICES_DIR),
    s6OverlayDir: dir(env, 'LIFEBOAT_S6_OVERLAY_DIR', profile),
    contInitDir: dir(env, 'LIFEBOAT_CONT_INIT_DIR', DEFAULT_CONT_INIT_DIR),
    contFinishDir: dir(env, 'LIFEBOAT_CONT_FINISH_DIR', DEFAULT_CONT_FINISH_DIR),
    fixAttrsDir: dir(env, 'LIFEBOAT_FIX_ATTRS_DIR', DEFAULT_FIX_ATTRS_DIR),
    behaviourIfInitFails: behaviour(env, s6.behaviourIfStage2Fails ?? DEFAULT_BEHAVIOUR_IF_INIT_FAILS),
    readyTimeout: millis(env, 'LIFEBOAT_READY_TIMEOUT', DEFAULT_READY_TIMEOUT),
    appGrace: millis(env, 'LIFEBOAT_APP_GRACETIME', DEFAULT_APP_GRACETIME),
    servicesGrace: millis(env, 'LIFEBOAT_SERVICES_GRACETIME', s6.servicesGrace ?? DEFAULT_SERVICES_GRACETIME),
    syncGrace: millis(env, 'LIFEBOAT_SYNC_GRACETIME', DEFAULT_SYNC_GRACETIME),
    killGrace: millis(env, 'LIFEBOAT_KILL_GRACETIME', s6.killGrace ?? DEFAULT_KILL_GRACETIME),
    contFinishTimeout: millis(env, 'LIFEBOAT_CONT_FINISH_TIMEOUT', s6.killFinishMaxTime ?? DEFAULT_CONT_FINISH_TIMEOUT),
    bootTimeout: s6.cmdWaitMaxTime || undefined,
    syncDisks: s6.syncDisks,
    stage2Hook: s6.stage2Hook,
    cmdReceivesSignals: s6.cmdReceivesSignals,
    cmdArg0: s6.cmdArg0,
    logPrefix: flag(env, 'LIFEBOAT_LOG_PREFIX', DEFAULT_LOG_PREFIX),
    crashLoopDeaths: count(env, 'LIFEBOAT_CRASH_LOOP_DEATHS', DEFAULT_CRASH_LOOP_DEATHS),
    crashLoopWindow: millis(env, 'LIFEBOAT_CRASH_LOOP_WINDOW', DEFAULT_CRASH_LOOP_WINDOW),
    stopOnCrashLoop: flag(env, 'LIFEBOAT_STOP_ON_CRASH_LOOP', DEFAULT_STOP_ON_CRASH_LOOP),
    containerEnvDirs: containerEnvDirs(env, pid),
    scanDirs: scanDirs(env, pid),
    testFail: testFail(env),
  };
}

function raw(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function dir(env: NodeJS.ProcessEnv, name: string, def: string): string {
  return raw(env, name) ?? def;
}

/** millis accepts a whole number of milliseconds (`4000`), as s6-overlay's knobs do. */
function millis(env: NodeJS.ProcessEnv, name: string, def: number): number {
  const v = raw(env, name);
  if (v === undefined) return def;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new ConfigError(name, `not a whole number of milliseconds: ${JSON.stringify(v)}`, v);
  }
  return Number(v);
}

/** count accepts a whole number of at least 1. */
function count(env: NodeJS.ProcessEnv, name: string, def: number): number {
  const v = raw(env, name);
  if (v === undefined) return def;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < 1) {
    throw new ConfigError(name, `not a whole number of at least 1: ${JSON.stringify(v)}`, v);
  }
  return Number(v);
}

function flag(env: NodeJS.ProcessEnv, name: string, def: boolean): boolean {
  const v = raw(env, name);
  if (v === undefined) return def;
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw new ConfigError(name, `not 0 or 1: ${JSON.stringify(v)}`, v);
}

function behaviour(env: NodeJS.ProcessEnv, def: InitFailBehaviour): InitFailBehaviour {
  const name = 'LIFEBOAT_BEHAVIOUR_IF_INIT_FAILS';
  const v = raw(env, name);
  if (v === undefined) return def;
  if (v === '0' || v === '1' || v === '2') return Number(v) as InitFailBehaviour;
  throw new ConfigError(name, `not 0, 1 or 2: ${JSON.stringify(v)}`, v);
}

/**
 * containerEnvDirs: none with S6_KEEP_ENV set to anything but 0 (s6-overlay then keeps
 * the environment and saves nothing); else `LIFEBOAT_CONTAINER_ENV_DIR` when set (empty:
 * none); else s6-overlay's two directories when the init is PID 1, none otherwise.
 */
function containerEnvDirs(env: NodeJS.ProcessEnv, pid: number): readonly string[] {
  if (keepEnv(env)) return [];
  const dir = env.LIFEBOAT_CONTAINER_ENV_DIR;
  if (dir !== undefined) return dir.trim() === '' ? [] : [dir.trim()];
  return pid === 1 ? CONTAINER_ENV_DIRS : [];
}

/** keepEnv reads S6_KEEP_ENV as s6-overlay's shell test `"0$S6_KEEP_ENV" -eq 0` does: unset, empty or zero resets. */
export function keepEnv(env: NodeJS.ProcessEnv): boolean {
  return !/^0*$/.test(`0${(env.S6_KEEP_ENV ?? '').trim()}`);
}

/** scanDirs: `LIFEBOAT_SCAN_DIRS` (colon-separated; empty: none) when set; else SCAN_DIRS as PID 1, none otherwise. */
function scanDirs(env: NodeJS.ProcessEnv, pid: number): readonly string[] {
  const v = env.LIFEBOAT_SCAN_DIRS;
  if (v !== undefined) return v.split(':').map((d) => d.trim()).filter((d) => d !== '');
  return pid === 1 ? SCAN_DIRS : [];
}

function testFail(env: NodeJS.ProcessEnv): Knobs['testFail'] {
  const name = 'LIFEBOAT_TEST_FAIL';
  const v = raw(env, name);
  if (v === undefined) return undefined;
  const mode = TEST_FAIL_MODES.find((m) => m === v);
  if (!mode) throw new ConfigError(name, `not ${TEST_FAIL_MODES.join(' or ')}: ${JSON.stringify(v)}`, v);
  return mode;
}
