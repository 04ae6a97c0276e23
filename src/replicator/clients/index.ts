/**
 * clients: builds the storage backend a replica config names. Constructing an S3 client
 * does no I/O and loads no SDK: the AWS SDK is imported on its first request.
 */
import type { ReplicaConfig } from '../../config/types.js';
import type { Logger } from '../../log.js';
import type { ReplicaClient } from '../replica-client.js';
import { FileReplicaClient, isMissingFileReplica } from './file.js';
import { S3ReplicaClient } from './s3.js';
import type { KeyPair } from './s3-credentials.js';

/** ClientOptions: the logger for the client's own lines (retries), e.g. one with `db=` and `replica=`. */
export interface ClientOptions {
  logger?: Logger;
}

/**
 * createReplicaClient returns the client for one replica: a FileReplicaClient on
 * `cfg.path`, or an S3ReplicaClient signing with the replica's keys, else `globals` (the
 * config's top-level keys), else the environment. Config errors of an s3 replica (no
 * bucket, half a key pair, a bad endpoint) are thrown here, before any request.
 */
export function createReplicaClient(cfg: ReplicaConfig, globals: KeyPair = {}, opts: ClientOptions = {}): ReplicaClient {
  if (cfg.type === 'file') return new FileReplicaClient(cfg.path);
  return new S3ReplicaClient(cfg, { globals, logger: opts.logger });
}

export { FileReplicaClient, S3ReplicaClient, isMissingFileReplica };
