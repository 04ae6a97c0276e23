/**
 * fill: turn partly-given settings into complete `ReplicaConfig` / `DbConfig` values using
 * the named defaults. Shared by the YAML validator and the CLI's `DB URL…` form, so both
 * give the same defaults.
 */
import * as D from './defaults.js';
import type { DbConfig, ReplicaConfig, ReplicaType } from './types.js';

/** ReplicaDraft is a replica with its location known and any other settings optional. */
export type ReplicaDraft = Partial<ReplicaConfig> & { type: ReplicaType; path: string };

/** defaultSyncInterval is 0 for file replicas and 1 s for object stores. */
export function defaultSyncInterval(type: ReplicaType): number {
  return type === 'file' ? D.DEFAULT_FILE_SYNC_INTERVAL : D.DEFAULT_S3_SYNC_INTERVAL;
}

/** fillReplica completes a draft: name after the type, interval defaults, s3 addressing defaults. */
export function fillReplica(d: ReplicaDraft): ReplicaConfig {
  const retention = Math.max(0, d.retention ?? D.DEFAULT_RETENTION);
  const r: ReplicaConfig = {
    name: d.name ?? d.type,
    type: d.type,
    path: d.path,
    retention,
    retentionCheckInterval:
      d.retentionCheckInterval ??
      (retention > 0 ? Math.min(D.DEFAULT_RETENTION_CHECK_INTERVAL, retention) : D.DEFAULT_RETENTION_CHECK_INTERVAL),
    syncInterval: d.syncInterval ?? defaultSyncInterval(d.type),
    snapshotInterval: d.snapshotInterval ?? D.DEFAULT_SNAPSHOT_INTERVAL,
    validationInterval: d.validationInterval ?? D.DEFAULT_VALIDATION_INTERVAL,
  };
  if (d.url !== undefined) r.url = d.url;
  if (d.type !== 's3') return r;
  // Path-style addressing is what every non-AWS endpoint wants; AWS itself has no endpoint.
  r.bucket = d.bucket;
  r.endpoint = d.endpoint;
  r.forcePathStyle = d.forcePathStyle ?? d.endpoint !== undefined;
  r.region = d.region ?? (d.endpoint !== undefined ? D.DEFAULT_S3_REGION : undefined);
  r.skipVerify = d.skipVerify ?? false;
  if (d.accessKeyId !== undefined) r.accessKeyId = d.accessKeyId;
  if (d.secretAccessKey !== undefined) r.secretAccessKey = d.secretAccessKey;
  return r;
}

/** fillDb completes a database entry with the default intervals and checkpoint thresholds. */
export function fillDb(path: string, replicas: ReplicaConfig[], given: Partial<DbConfig> = {}): DbConfig {
  const db: DbConfig = {
    path,
    monitorInterval: given.monitorInterval ?? D.DEFAULT_MONITOR_INTERVAL,
    checkpointInterval: given.checkpointInterval ?? D.DEFAULT_CHECKPOINT_INTERVAL,
    busyTimeout: given.busyTimeout ?? D.DEFAULT_BUSY_TIMEOUT,
    minCheckpointPageCount: given.minCheckpointPageCount ?? D.DEFAULT_MIN_CHECKPOINT_PAGE_COUNT,
    maxCheckpointPageCount: given.maxCheckpointPageCount ?? D.DEFAULT_MAX_CHECKPOINT_PAGE_COUNT,
    replicas,
  };
  if (given.metaPath !== undefined) db.metaPath = given.metaPath;
  return db;
}
