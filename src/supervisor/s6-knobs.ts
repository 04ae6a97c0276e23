/**
 * s6-knobs: s6-overlay's `S6_*` variables, read with s6-overlay's units (milliseconds) and
 * meanings. Where Lifeboat has a knob of the same meaning the S6 variable sets its value
 * and the `LIFEBOAT_*` variable, when also set, wins (knobs.ts). The variables Lifeboat
 * does not support are named once at WARN when set (docs/migrating-from-s6-overlay.md).
 */
import { ConfigError } from '../errors.js';
import type { Logger, LogLevel } from '../log.js';
import { splitShellWords } from './shell-words.js';

/** S6_UNSUPPORTED are the variables s6-overlay v3.2 documents that Lifeboat does not act on. */
export const S6_UNSUPPORTED: readonly string[] = [
  'S6_LOGGING',
  'S6_CATCHALL_USER',
  'S6_FIX_ATTRS_HIDDEN',
  'S6_YES_I_WANT_A_WORLD_WRITABLE_RUN_BECAUSE_KUBERNETES',
  'S6_WAIT_FOR_CLOSING_FD',
  'S6_RUNTIME_BUNDLEDIR',
];

/** S6Knobs are the S6 variables that are set, parsed (undefined: not set). */
export interface S6Knobs {
  killGrace?: number;
  servicesGrace?: number;
  killFinishMaxTime?: number;
  behaviourIfStage2Fails?: 0 | 1 | 2;
  /** cmdWaitMaxTime bounds the boot until the CMD (0: no limit). */
  cmdWaitMaxTime?: number;
  syncDisks: boolean;
  stage2Hook?: string;
  verbosity?: number;
  /** cmdArg0 is prepended to the CMD (S6_CMD_ARG0, split into words); empty when unset. */
  cmdArg0: string[];
  /** cmdReceivesSignals diverts the container's signals to the CMD while it runs (S6_CMD_RECEIVE_SIGNALS ≠ 0). */
  cmdReceivesSignals: boolean;
  /** runtimeProfile picks /etc/cont-profile.d/PROFILE/s6-overlay as the v3 tree's base. */
  runtimeProfile?: string;
}

/** readS6Knobs parses the S6 variables of `env`; a bad number is a ConfigError naming the variable. */
export function readS6Knobs(env: NodeJS.ProcessEnv): S6Knobs {
  const stage2 = millis(env, 'S6_BEHAVIOUR_IF_STAGE2_FAILS');
  return {
    killGrace: millis(env, 'S6_KILL_GRACETIME'),
    servicesGrace: millis(env, 'S6_SERVICES_GRACETIME'),
    killFinishMaxTime: millis(env, 'S6_KILL_FINISH_MAXTIME'),
    // s6-overlay tests `-ne 0` and `-ge 2`: anything from 2 up stops the container.
    behaviourIfStage2Fails: stage2 === undefined ? undefined : (Math.min(stage2, 2) as 0 | 1 | 2),
    cmdWaitMaxTime: millis(env, 'S6_CMD_WAIT_FOR_SERVICES_MAXTIME'),
    syncDisks: (millis(env, 'S6_SYNC_DISKS') ?? 0) !== 0,
    stage2Hook: raw(env, 'S6_STAGE2_HOOK'),
    verbosity: millis(env, 'S6_VERBOSITY'),
    runtimeProfile: raw(env, 'S6_RUNTIME_PROFILE'),
    cmdReceivesSignals: (millis(env, 'S6_CMD_RECEIVE_SIGNALS') ?? 0) !== 0,
    cmdArg0: words(env, 'S6_CMD_ARG0'),
  };
}

/** verbosityLevel maps S6_VERBOSITY to the init's log level: 0 error, 1 warn, 2 info (s6's default), 3 and up debug. */
export function verbosityLevel(verbosity: number | undefined): LogLevel | undefined {
  if (verbosity === undefined) return undefined;
  return (['error', 'warn', 'info'] as const)[verbosity] ?? 'debug';
}

/**
 * warnUnsupported logs, once, the S6 variables set in `env` that Lifeboat does not act on,
 * and S6_CMD_WAIT_FOR_SERVICES=0 (Lifeboat always waits for services to be ready).
 */
export function warnUnsupported(env: NodeJS.ProcessEnv, log: Logger): void {
  const set = S6_UNSUPPORTED.filter((name) => raw(env, name) !== undefined && !(name === 'S6_LOGGING' && raw(env, name) === '0'));
  if (set.length > 0) log.warn('s6-overlay variables not supported by Lifeboat: ignored', { variables: set.join(',') });
  const wait = raw(env, 'S6_CMD_WAIT_FOR_SERVICES');
  if (wait !== undefined && /^0*$/.test(wait)) log.warn('S6_CMD_WAIT_FOR_SERVICES=0 is not supported: Lifeboat always waits for services with a notification-fd');
}

function raw(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** words splits a variable into words as a shell would; a bad quote is a ConfigError naming it. */
function words(env: NodeJS.ProcessEnv, name: string): string[] {
  const v = raw(env, name);
  if (v === undefined) return [];
  try {
    return splitShellWords(v);
  } catch (err) {
    throw new ConfigError(name, `${(err as Error).message}: ${JSON.stringify(v)}`, v);
  }
}

/** millis reads a whole number (milliseconds, or a level), as s6-overlay's shell tests do. */
function millis(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = raw(env, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new ConfigError(name, `not a whole number: ${JSON.stringify(v)}`, v);
  return Number(v);
}
