import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { readKnobs } from '../../src/supervisor/knobs.js';

describe('readKnobs', () => {
  it('has the documented defaults', () => {
    expect(readKnobs({})).toEqual({
      servicesDir: '/etc/services.d',
      contInitDir: '/etc/cont-init.d',
      contFinishDir: '/etc/cont-finish.d',
      fixAttrsDir: '/etc/fix-attrs.d',
      behaviourIfInitFails: 2,
      readyTimeout: 30000,
      appGrace: 4000,
      servicesGrace: 1000,
      syncGrace: 4000,
      killGrace: 500,
      contFinishTimeout: 5000,
      logPrefix: true,
      crashLoopDeaths: 5,
      crashLoopWindow: 120000,
      stopOnCrashLoop: false,
      containerEnvDirs: [],
      s6OverlayDir: '/etc/s6-overlay',
      bootTimeout: undefined,
      syncDisks: false,
      stage2Hook: undefined,
      scanDirs: [],
      cmdReceivesSignals: false,
      cmdArg0: [],
      testFail: undefined,
    });
  });

  it("takes the S6_* variables in s6-overlay's units, and the LIFEBOAT_* ones win when both are set", () => {
    const s6 = {
      S6_KILL_GRACETIME: '0',
      S6_SERVICES_GRACETIME: '3000',
      S6_KILL_FINISH_MAXTIME: '7000',
      S6_BEHAVIOUR_IF_STAGE2_FAILS: '0',
      S6_CMD_WAIT_FOR_SERVICES_MAXTIME: '2500',
      S6_SYNC_DISKS: '1',
      S6_STAGE2_HOOK: '/hook arg',
      S6_RUNTIME_PROFILE: 'dev',
      S6_CMD_RECEIVE_SIGNALS: '1',
      S6_CMD_ARG0: "/entry 'a b'",
    };
    expect(readKnobs(s6)).toMatchObject({
      killGrace: 0,
      servicesGrace: 3000,
      contFinishTimeout: 7000,
      behaviourIfInitFails: 0,
      bootTimeout: 2500,
      syncDisks: true,
      stage2Hook: '/hook arg',
      s6OverlayDir: '/etc/cont-profile.d/dev/s6-overlay',
      cmdReceivesSignals: true,
      cmdArg0: ['/entry', 'a b'],
    });
    const both = readKnobs({ ...s6, LIFEBOAT_KILL_GRACETIME: '9', LIFEBOAT_SERVICES_GRACETIME: '8', LIFEBOAT_BEHAVIOUR_IF_INIT_FAILS: '2', LIFEBOAT_S6_OVERLAY_DIR: '/x' });
    expect(both).toMatchObject({ killGrace: 9, servicesGrace: 8, behaviourIfInitFails: 2, s6OverlayDir: '/x' });
    expect(readKnobs({ S6_BEHAVIOUR_IF_STAGE2_FAILS: '5' }).behaviourIfInitFails).toBe(2);
    expect(readKnobs({ S6_CMD_WAIT_FOR_SERVICES_MAXTIME: '0' }).bootTimeout).toBeUndefined();
    expect(() => readKnobs({ S6_KILL_GRACETIME: '3s' })).toThrow('S6_KILL_GRACETIME: not a whole number: "3s"');
  });

  it('keeps the grace defaults inside Docker stop timeout of 10 s', () => {
    const k = readKnobs({});
    expect(k.appGrace + k.servicesGrace + k.syncGrace + k.killGrace).toBeLessThan(10_000);
  });

  it('reads every variable', () => {
    const k = readKnobs({
      LIFEBOAT_SERVICES_DIR: '/s',
      LIFEBOAT_CONT_INIT_DIR: '/i',
      LIFEBOAT_CONT_FINISH_DIR: '/f',
      LIFEBOAT_FIX_ATTRS_DIR: '/a',
      LIFEBOAT_BEHAVIOUR_IF_INIT_FAILS: '1',
      LIFEBOAT_READY_TIMEOUT: '10',
      LIFEBOAT_APP_GRACETIME: '11',
      LIFEBOAT_SERVICES_GRACETIME: '12',
      LIFEBOAT_SYNC_GRACETIME: '13',
      LIFEBOAT_KILL_GRACETIME: '0',
      LIFEBOAT_CONT_FINISH_TIMEOUT: '15',
      LIFEBOAT_LOG_PREFIX: '0',
      LIFEBOAT_CRASH_LOOP_DEATHS: '3',
      LIFEBOAT_CRASH_LOOP_WINDOW: '9000',
      LIFEBOAT_STOP_ON_CRASH_LOOP: '1',
      LIFEBOAT_TEST_FAIL: 'uncaught',
      LIFEBOAT_CONTAINER_ENV_DIR: '/e',
      LIFEBOAT_S6_OVERLAY_DIR: '/v3',
      LIFEBOAT_SCAN_DIRS: '/a: /b:',
    });
    expect(k).toEqual({
      s6OverlayDir: '/v3',
      bootTimeout: undefined,
      syncDisks: false,
      stage2Hook: undefined,
      cmdReceivesSignals: false,
      cmdArg0: [],
      servicesDir: '/s',
      contInitDir: '/i',
      contFinishDir: '/f',
      fixAttrsDir: '/a',
      behaviourIfInitFails: 1,
      readyTimeout: 10,
      appGrace: 11,
      servicesGrace: 12,
      syncGrace: 13,
      killGrace: 0,
      contFinishTimeout: 15,
      logPrefix: false,
      crashLoopDeaths: 3,
      crashLoopWindow: 9000,
      stopOnCrashLoop: true,
      containerEnvDirs: ['/e'],
      scanDirs: ['/a', '/b'],
      testFail: 'uncaught',
    });
  });

  it("makes the s6 scan directories in s6-overlay's places as PID 1 only, where LIFEBOAT_SCAN_DIRS says", () => {
    expect(readKnobs({}, 1).scanDirs).toEqual(['/run/service', '/var/run/s6/services']);
    expect(readKnobs({}, 4242).scanDirs).toEqual([]);
    expect(readKnobs({ LIFEBOAT_SCAN_DIRS: '' }, 1).scanDirs).toEqual([]);
    expect(readKnobs({ LIFEBOAT_SCAN_DIRS: '/tmp/scan' }, 4242).scanDirs).toEqual(['/tmp/scan']);
  });

  it("saves the environment in s6-overlay's directories as PID 1 only, where LIFEBOAT_CONTAINER_ENV_DIR says, never with S6_KEEP_ENV", () => {
    expect(readKnobs({}, 1).containerEnvDirs).toEqual(['/run/s6/container_environment', '/var/run/s6/container_environment']);
    expect(readKnobs({}, 4242).containerEnvDirs).toEqual([]);
    expect(readKnobs({ LIFEBOAT_CONTAINER_ENV_DIR: ' /tmp/env ' }, 4242).containerEnvDirs).toEqual(['/tmp/env']);
    expect(readKnobs({ LIFEBOAT_CONTAINER_ENV_DIR: '' }, 1).containerEnvDirs).toEqual([]);
    // s6-overlay's test, "0$S6_KEEP_ENV" -eq 0: unset, empty or zero saves; anything else keeps.
    for (const v of ['', '0', '00']) expect(readKnobs({ S6_KEEP_ENV: v }, 1).containerEnvDirs, v).toHaveLength(2);
    for (const v of ['1', '2', 'true', 'yes']) {
      expect(readKnobs({ S6_KEEP_ENV: v, LIFEBOAT_CONTAINER_ENV_DIR: '/tmp/env' }, 1).containerEnvDirs, v).toEqual([]);
    }
  });

  it('treats an empty variable as unset', () => {
    expect(readKnobs({ LIFEBOAT_READY_TIMEOUT: '' }).readyTimeout).toBe(30000);
  });

  const bad: [string, string, string][] = [
    ['LIFEBOAT_READY_TIMEOUT', '30s', 'LIFEBOAT_READY_TIMEOUT: not a whole number of milliseconds: "30s"'],
    ['LIFEBOAT_SYNC_GRACETIME', '-1', 'LIFEBOAT_SYNC_GRACETIME: not a whole number of milliseconds: "-1"'],
    ['LIFEBOAT_BEHAVIOUR_IF_INIT_FAILS', '3', 'LIFEBOAT_BEHAVIOUR_IF_INIT_FAILS: not 0, 1 or 2: "3"'],
    ['LIFEBOAT_LOG_PREFIX', 'yes', 'LIFEBOAT_LOG_PREFIX: not 0 or 1: "yes"'],
    ['LIFEBOAT_CRASH_LOOP_DEATHS', '0', 'LIFEBOAT_CRASH_LOOP_DEATHS: not a whole number of at least 1: "0"'],
    ['LIFEBOAT_CRASH_LOOP_DEATHS', 'many', 'LIFEBOAT_CRASH_LOOP_DEATHS: not a whole number of at least 1: "many"'],
    ['LIFEBOAT_CRASH_LOOP_WINDOW', '2m', 'LIFEBOAT_CRASH_LOOP_WINDOW: not a whole number of milliseconds: "2m"'],
    ['LIFEBOAT_STOP_ON_CRASH_LOOP', '2', 'LIFEBOAT_STOP_ON_CRASH_LOOP: not 0 or 1: "2"'],
    ['LIFEBOAT_TEST_FAIL', 'boom', 'LIFEBOAT_TEST_FAIL: not uncaught or rejection: "boom"'],
  ];
  for (const [name, value, message] of bad) {
    it(`rejects ${name}=${value} naming the variable and the value`, () => {
      expect(() => readKnobs({ [name]: value })).toThrow(ConfigError);
      expect(() => readKnobs({ [name]: value })).toThrow(message);
    });
  }
});
