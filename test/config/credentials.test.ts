import { describe, expect, it } from 'vitest';
import { applyLitestreamEnv } from '../../src/config/credentials.js';

describe('applyLitestreamEnv', () => {
  it('copies LITESTREAM_* credentials to unset AWS_* variables', () => {
    const env: NodeJS.ProcessEnv = { LITESTREAM_ACCESS_KEY_ID: 'lid', LITESTREAM_SECRET_ACCESS_KEY: 'lsecret' };
    applyLitestreamEnv(env);
    expect(env).toMatchObject({ AWS_ACCESS_KEY_ID: 'lid', AWS_SECRET_ACCESS_KEY: 'lsecret' });
  });

  it('lets AWS_* win when both are set (even when set to empty)', () => {
    const env: NodeJS.ProcessEnv = {
      LITESTREAM_ACCESS_KEY_ID: 'lid',
      LITESTREAM_SECRET_ACCESS_KEY: 'lsecret',
      AWS_ACCESS_KEY_ID: 'aid',
      AWS_SECRET_ACCESS_KEY: '',
    };
    applyLitestreamEnv(env);
    expect([env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY]).toEqual(['aid', '']);
  });

  it('sets nothing when LITESTREAM_* are unset', () => {
    const env: NodeJS.ProcessEnv = {};
    applyLitestreamEnv(env);
    expect(env).toEqual({});
  });
});
