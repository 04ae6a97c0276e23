import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, errorMessage } from '../../../src/errors.js';
import { Logger } from '../../../src/log.js';
import { S3ReplicaClient, chooseTransport } from '../../../src/replicator/clients/s3.js';
import { resolveCredentials } from '../../../src/replicator/clients/s3-credentials.js';
import { startS3rver, type S3rver } from '../../helpers/s3rver.js';

describe('resolveCredentials', () => {
  const replica = { accessKeyId: 'AKID_REPLICA', secretAccessKey: 'secret-replica' };
  const globals = { accessKeyId: 'AKID_GLOBAL', secretAccessKey: 'secret-global' };
  const aws = { AWS_ACCESS_KEY_ID: 'AKID_AWS', AWS_SECRET_ACCESS_KEY: 'secret-aws' };
  const ls = { LITESTREAM_ACCESS_KEY_ID: 'AKID_LS', LITESTREAM_SECRET_ACCESS_KEY: 'secret-ls' };

  test('replica keys win over global keys and the environment', () => {
    expect(resolveCredentials(replica, globals, { ...aws, ...ls })).toEqual({ source: 'config', ...replica });
  });

  test('global keys come next, field by field', () => {
    expect(resolveCredentials({}, globals, { ...aws, ...ls })).toEqual({ source: 'config', ...globals });
    expect(resolveCredentials({ accessKeyId: 'AKID_REPLICA' }, globals, {})).toEqual({
      source: 'config',
      accessKeyId: 'AKID_REPLICA',
      secretAccessKey: 'secret-global',
    });
  });

  test('AWS_* wins over LITESTREAM_*, which fills only unset variables', () => {
    expect(resolveCredentials({}, {}, { ...aws, ...ls })).toEqual({ source: 'env', accessKeyId: 'AKID_AWS', secretAccessKey: 'secret-aws' });
    expect(resolveCredentials({}, {}, ls)).toEqual({ source: 'env', accessKeyId: 'AKID_LS', secretAccessKey: 'secret-ls' });
    expect(resolveCredentials({}, {}, { AWS_ACCESS_KEY_ID: 'AKID_AWS', ...ls })).toEqual({
      source: 'env',
      accessKeyId: 'AKID_AWS',
      secretAccessKey: 'secret-ls',
    });
    expect(resolveCredentials({}, {}, { ...aws, AWS_SESSION_TOKEN: 'tok' })).toMatchObject({ sessionToken: 'tok' });
  });

  test('with nothing set (or half a pair in the environment) the SDK default chain decides', () => {
    expect(resolveCredentials({}, {}, {})).toEqual({ source: 'default-chain' });
    expect(resolveCredentials({}, {}, { AWS_ACCESS_KEY_ID: 'AKID_AWS', AWS_ACCESS_KEY: 'x' })).toEqual({ source: 'default-chain' });
  });

  test('half a pair in the config is a ConfigError that never echoes the other half', () => {
    const err = (() => {
      try {
        resolveCredentials({ secretAccessKey: 'only-the-secret' }, {}, {});
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(errorMessage(err)).toBe('access-key-id: required when secret-access-key is set');
    expect(inspect(err)).not.toContain('only-the-secret');
  });
});

describe('chooseTransport', () => {
  const keys = { source: 'env' as const, accessKeyId: 'AKID', secretAccessKey: 's' };
  const chain = { source: 'default-chain' as const };

  test('static keys use our own client, the default chain the SDK', () => {
    expect(chooseTransport(keys, {})).toBe('native');
    expect(chooseTransport({ ...keys, source: 'config' }, {})).toBe('native');
    expect(chooseTransport(chain, {})).toBe('sdk');
  });

  test('a variable only the SDK honours keeps the SDK', () => {
    for (const name of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_USE_FIPS_ENDPOINT', 'AWS_USE_DUALSTACK_ENDPOINT']) {
      expect(chooseTransport(keys, { [name]: 'x' }), name).toBe('sdk');
    }
  });

  test('LIFEBOAT_S3_CLIENT decides; a bad value, or native without static keys, is a ConfigError naming it', () => {
    expect(chooseTransport(keys, { LIFEBOAT_S3_CLIENT: 'sdk' })).toBe('sdk');
    expect(chooseTransport(keys, { LIFEBOAT_S3_CLIENT: 'native', AWS_ENDPOINT_URL: 'x' })).toBe('native');
    expect(() => chooseTransport(keys, { LIFEBOAT_S3_CLIENT: 'curl' })).toThrow('LIFEBOAT_S3_CLIENT: invalid value "curl": want native or sdk');
    expect(() => chooseTransport(chain, { LIFEBOAT_S3_CLIENT: 'native' })).toThrow(/^LIFEBOAT_S3_CLIENT: native needs static keys/);
  });
});

describe('S3ReplicaClient credentials on a real server', () => {
  let server: S3rver;
  const saved = { ...process.env };
  beforeAll(async () => {
    server = await startS3rver();
    await server.bucket('creds');
  });
  afterAll(async () => {
    process.env = saved;
    await server?.stop();
  });

  /** signer lists the key ids that signed the requests of one generations() call. */
  async function signer(keys: { accessKeyId?: string; secretAccessKey?: string }, globals: object, env: NodeJS.ProcessEnv): Promise<(string | undefined)[]> {
    const c = new S3ReplicaClient({ bucket: 'creds', path: 'db', endpoint: server.endpoint, ...keys }, { globals, env, logger: new Logger({ write: () => {} }) });
    server.resetRequests();
    await c.generations();
    await c.close();
    return (await server.requests()).map((r) => r.accessKeyId);
  }

  test('requests are signed with the key the precedence picks', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKID_AWS', AWS_SECRET_ACCESS_KEY: 's-aws', LITESTREAM_ACCESS_KEY_ID: 'AKID_LS', LITESTREAM_SECRET_ACCESS_KEY: 's-ls' };
    const globals = { accessKeyId: 'AKID_GLOBAL', secretAccessKey: 's-global' };
    expect(await signer({ accessKeyId: 'AKID_REPLICA', secretAccessKey: 's-replica' }, globals, env)).toEqual(['AKID_REPLICA']);
    expect(await signer({}, globals, env)).toEqual(['AKID_GLOBAL']);
    expect(await signer({}, {}, env)).toEqual(['AKID_AWS']);
    expect(await signer({}, {}, { LITESTREAM_ACCESS_KEY_ID: 'AKID_LS', LITESTREAM_SECRET_ACCESS_KEY: 's-ls' })).toEqual(['AKID_LS']);
  });

  test('with no keys anywhere, the SDK default chain signs (here: from the process environment)', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKID_CHAIN';
    process.env.AWS_SECRET_ACCESS_KEY = 's-chain';
    expect(await signer({}, {}, {})).toEqual(['AKID_CHAIN']);
  });

  test('a session token goes with every request, from either client', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKID_TOKEN', AWS_SECRET_ACCESS_KEY: 's-token', AWS_SESSION_TOKEN: 'the-session-token' };
    for (const transport of ['native', 'sdk'] as const) {
      const c = new S3ReplicaClient({ bucket: 'creds', path: 'db', endpoint: server.endpoint }, { env, transport, logger: new Logger({ write: () => {} }) });
      server.resetRequests();
      await c.generations();
      await c.close();
      expect((await server.requests()).map((r) => [r.accessKeyId, r.securityToken]), transport).toEqual([['AKID_TOKEN', 'the-session-token']]);
    }
  });

  test('no error message or log line of a failing run holds the secret', async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const lines: string[] = [];
    const logger = new Logger({ level: 'debug', timestamps: false, write: (l) => lines.push(l) });
    const keys = { accessKeyId: 'AKID_SECRET_TEST', secretAccessKey: secret };
    const errors: unknown[] = [];
    const refused = new S3ReplicaClient({ bucket: 'creds', path: 'db', endpoint: 'http://127.0.0.1:1', ...keys }, { logger, retry: { attempts: 3, baseDelay: 5, maxDelay: 5 } });
    errors.push(await refused.generations().catch((e: unknown) => e));
    const denied = new S3ReplicaClient({ bucket: 'creds', path: 'db', endpoint: server.endpoint, ...keys }, { logger });
    await server.failNext({ count: 1, status: 403, code: 'SignatureDoesNotMatch' });
    errors.push(await denied.writeSnapshot('0123456789abcdef', 0, Buffer.from('x')).catch((e: unknown) => e));
    const missing = new S3ReplicaClient({ bucket: 'no-such-bucket', path: 'db', endpoint: server.endpoint, ...keys }, { logger });
    errors.push(await missing.generations().catch((e: unknown) => e));

    expect(errors.map(errorMessage)).toEqual([
      'list generations: connect ECONNREFUSED 127.0.0.1:1',
      'write snapshot generations/0123456789abcdef/snapshots/00000000.snapshot.lz4: 403 SignatureDoesNotMatch',
      'list generations: 404 NoSuchBucket',
    ]);
    expect(lines.length).toBe(2);
    for (const text of [...lines, ...errors.map((e) => inspect(e, { depth: 8 })), ...errors.map((e) => (e as Error).stack ?? '')]) {
      expect(text).not.toContain(secret);
    }
    for (const c of [refused, denied, missing]) await c.close();
  });
});
