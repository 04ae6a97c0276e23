/**
 * s3-credentials: which access key an S3 replica signs with, as the reference decides it.
 * Explicit keys in the config win (the replica's own, each field falling back to the
 * top-level one); then `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, each filled from
 * `LITESTREAM_ACCESS_KEY_ID` / `LITESTREAM_SECRET_ACCESS_KEY` only when unset; then the
 * SDK's default provider chain (shared config files, SSO, container and instance roles).
 */
import { ConfigError } from '../../errors.js';

/** KeyPair is an optional access key id and secret. */
export interface KeyPair {
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** CredentialSource names where the keys came from (safe to log). */
export type CredentialSource = 'config' | 'env' | 'default-chain';

/** ResolvedCredentials is the outcome: static keys with their source, or the SDK's default chain. */
export type ResolvedCredentials =
  | { source: 'config' | 'env'; accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | { source: 'default-chain' };

/**
 * resolveCredentials picks the keys for one replica from its config (`replica`), the
 * config's top-level keys (`globals`) and the environment (`env`). A config that sets only
 * one half of a pair is a ConfigError naming the missing field (never echoing the other).
 */
export function resolveCredentials(replica: KeyPair, globals: KeyPair = {}, env: NodeJS.ProcessEnv = process.env): ResolvedCredentials {
  const accessKeyId = replica.accessKeyId || globals.accessKeyId;
  const secretAccessKey = replica.secretAccessKey || globals.secretAccessKey;
  if (accessKeyId && secretAccessKey) return { source: 'config', accessKeyId, secretAccessKey };
  if (accessKeyId) throw new ConfigError('secret-access-key', 'required when access-key-id is set');
  if (secretAccessKey) throw new ConfigError('access-key-id', 'required when secret-access-key is set');

  const envKeyId = env.AWS_ACCESS_KEY_ID || env.LITESTREAM_ACCESS_KEY_ID;
  const envSecret = env.AWS_SECRET_ACCESS_KEY || env.LITESTREAM_SECRET_ACCESS_KEY;
  if (envKeyId && envSecret) {
    const sessionToken = env.AWS_ACCESS_KEY_ID ? env.AWS_SESSION_TOKEN || undefined : undefined;
    return { source: 'env', accessKeyId: envKeyId, secretAccessKey: envSecret, ...(sessionToken ? { sessionToken } : {}) };
  }
  return { source: 'default-chain' };
}
