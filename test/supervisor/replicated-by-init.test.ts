import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { childEnv, INIT_REPLICATES_ENV, replicatedByInit } from '../../src/supervisor/replicated-by-init.js';

describe('replicated-by-init', () => {
  it('passes the init databases to its children as absolute paths, and reads them back', () => {
    const env = childEnv(['/data/app.db', 'rel/other.db'], { PATH: '/bin' });
    expect(env.PATH).toBe('/bin');
    expect(env[INIT_REPLICATES_ENV]).toBe(`/data/app.db\n${path.resolve('rel/other.db')}`);
    expect([...replicatedByInit(env)]).toEqual(['/data/app.db', path.resolve('rel/other.db')]);
  });

  it('an init without databases passes none on, even when it inherited the variable', () => {
    const env = childEnv([], { [INIT_REPLICATES_ENV]: '/data/app.db' });
    expect(INIT_REPLICATES_ENV in env).toBe(false);
    expect(replicatedByInit(env).size).toBe(0);
    expect(replicatedByInit({}).size).toBe(0);
  });
});
