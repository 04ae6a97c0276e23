import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import { ConfigError } from '../../src/errors.js';
import * as D from '../../src/config/defaults.js';

const paths = { cwd: '/work', home: '/home/me' };
const validate = (raw: unknown, env: NodeJS.ProcessEnv = {}) => validateConfig(raw, { paths, env });

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('health: config section', () => {
  it('defaults: max-lag 30s, heartbeat every 1m, no heartbeat URL', () => {
    expect(validate({}).health).toEqual({ maxLag: D.DEFAULT_HEALTH_MAX_LAG, heartbeatInterval: D.DEFAULT_HEARTBEAT_INTERVAL });
    expect(D.DEFAULT_HEALTH_MAX_LAG).toBe(30_000);
  });

  it('reads Go durations and the heartbeat URL', () => {
    const c = validate({ health: { 'max-lag': '1m30s', 'heartbeat-url': 'https://hc-ping.com/abc', 'heartbeat-interval': '20s' } });
    expect(c.health).toEqual({ maxLag: 90_000, heartbeatUrl: 'https://hc-ping.com/abc', heartbeatInterval: 20_000 });
  });

  it('LIFEBOAT_HEALTH_MAX_LAG wins over the file; blank is unset', () => {
    expect(validate({ health: { 'max-lag': '1m' } }, { LIFEBOAT_HEALTH_MAX_LAG: '5s' }).health.maxLag).toBe(5_000);
    expect(validate({ health: { 'max-lag': '1m' } }, { LIFEBOAT_HEALTH_MAX_LAG: ' ' }).health.maxLag).toBe(60_000);
  });

  it('bad values: one line naming the key and the value', () => {
    expect(messageOf(() => validate({ health: { 'max-lag': '30' } }))).toBe('health.max-lag: invalid duration "30"');
    expect(messageOf(() => validate({ health: { 'max-lag': '0s' } }))).toBe('health.max-lag: must be greater than 0, got "0s"');
    expect(messageOf(() => validate({ health: { 'heartbeat-interval': '-1s' } }))).toBe('health.heartbeat-interval: must be greater than 0, got "-1s"');
    expect(messageOf(() => validate({ health: { 'heartbeat-url': 'hc-ping.com/abc' } }))).toBe(
      'health.heartbeat-url: not an absolute URL: want http://… or https://…',
    );
    expect(messageOf(() => validate({}, { LIFEBOAT_HEALTH_MAX_LAG: 'soon' }))).toBe('LIFEBOAT_HEALTH_MAX_LAG: invalid duration "soon" (want e.g. 30s or 1m)');
    expect(messageOf(() => validate({}, { LIFEBOAT_HEALTH_MAX_LAG: '0' }))).toBe('LIFEBOAT_HEALTH_MAX_LAG: must be greater than 0, got "0"');
  });

  it('a heartbeat URL is never echoed: a bad one is named by its scheme or host, userinfo is refused', () => {
    const ftp = messageOf(() => validate({ health: { 'heartbeat-url': 'ftp://hc.example/secrettoken' } }));
    expect(ftp).toBe('health.heartbeat-url: unsupported scheme "ftp:": want http://… or https://…');
    const userinfo = messageOf(() => validate({ health: { 'heartbeat-url': 'https://user:secrettoken@hc.example/ping' } }));
    expect(userinfo).toBe(
      'health.heartbeat-url: a user or password in the URL (user:pass@hc.example) is not supported: put the token in the path or query',
    );
    const bad = messageOf(() => validate({ health: { 'heartbeat-url': 'hc.example/secrettoken' } }));
    for (const m of [ftp, userinfo, bad]) expect(m).not.toContain('secrettoken');
  });

  it('unknown keys are warnings', () => {
    expect(validate({ health: { 'max-lagg': '1s' } }).warnings).toContain('health.max-lagg: unknown key, ignored');
  });
});
