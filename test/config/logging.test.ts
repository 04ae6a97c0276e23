import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { defaultLogging } from '../../src/config/logging.js';
import { validateConfig } from '../../src/config/validate.js';
import { ConfigError } from '../../src/errors.js';

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

describe('logging: config section', () => {
  it('timestamps default to on; logging.timestamps: false turns them off', () => {
    expect(validate({}).logging.timestamps).toBe(true);
    expect(validate({ logging: { timestamps: 'false' } }).logging.timestamps).toBe(false);
    expect(validate({ logging: { timestamps: 'true' } }).logging.timestamps).toBe(true);
  });

  it('LIFEBOAT_LOG_TIMESTAMPS wins over the file (0, 1, false, true); blank is unset', () => {
    expect(validate({ logging: { timestamps: 'true' } }, { LIFEBOAT_LOG_TIMESTAMPS: '0' }).logging.timestamps).toBe(false);
    expect(validate({ logging: { timestamps: 'false' } }, { LIFEBOAT_LOG_TIMESTAMPS: '1' }).logging.timestamps).toBe(true);
    expect(validate({}, { LIFEBOAT_LOG_TIMESTAMPS: 'false' }).logging.timestamps).toBe(false);
    expect(validate({ logging: { timestamps: 'false' } }, { LIFEBOAT_LOG_TIMESTAMPS: ' ' }).logging.timestamps).toBe(false);
  });

  it('logging.timestamps overridden by LIFEBOAT_LOG_TIMESTAMPS is still a known key (no warning)', () => {
    expect(validate({ logging: { timestamps: 'false' } }, { LIFEBOAT_LOG_TIMESTAMPS: '0' }).warnings).toEqual([]);
  });

  it('a bad LIFEBOAT_LOG_TIMESTAMPS is one error naming the variable and the value', () => {
    expect(messageOf(() => validate({}, { LIFEBOAT_LOG_TIMESTAMPS: 'yes' }))).toBe('LIFEBOAT_LOG_TIMESTAMPS: not 0 or 1: "yes"');
    expect(messageOf(() => defaultLogging({ LIFEBOAT_LOG_TIMESTAMPS: '2' }))).toBe('LIFEBOAT_LOG_TIMESTAMPS: not 0 or 1: "2"');
  });

  it('applies to every command: a config file read without the health variables still reads it', () => {
    const env = { LIFEBOAT_LOG_TIMESTAMPS: '0', LIFEBOAT_HEALTH_MAX_LAG: '5s' };
    const c = parseConfigText('dbs: []\n', { env, paths });
    expect(c.logging.timestamps).toBe(false);
    expect(c.health.maxLag).toBe(30_000);
    expect(parseConfigText('dbs: []\n', { env, paths, healthEnv: true }).health.maxLag).toBe(5_000);
  });

  it('without a config file: the defaults, with the variable applied', () => {
    expect(defaultLogging()).toEqual({ level: 'info', type: 'text', stderr: true, timestamps: true });
    expect(defaultLogging({ LIFEBOAT_LOG_TIMESTAMPS: '0' }).timestamps).toBe(false);
  });
});
