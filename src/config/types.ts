/**
 * config types: the validated, typed form of a `lifeboat.yml` / `litestream.yml`.
 * Durations are milliseconds; paths are absolute; defaults are filled in
 * (`defaults.ts` names every default in one place).
 */
import type { LogLevel } from '../log.js';

/** ReplicaType is a supported storage backend. */
export type ReplicaType = 'file' | 's3';

/** ReplicaConfig is one replica target of one database. */
export interface ReplicaConfig {
  /** name is unique per database; defaults to the type. */
  name: string;
  type: ReplicaType;
  /** url is the original replica URL, if the replica was given as one (for messages). */
  url?: string;
  /** path: file replicas' absolute directory; s3 replicas' key prefix (no leading slash). */
  path: string;
  retention: number;
  retentionCheckInterval: number;
  syncInterval: number;
  snapshotInterval: number;
  validationInterval: number;
  bucket?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  skipVerify?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** DbConfig is one replicated database. */
export interface DbConfig {
  path: string;
  metaPath?: string;
  monitorInterval: number;
  checkpointInterval: number;
  /** busyTimeout is SQLite's busy timeout for our connections (reference v0.3.13's `busy-timeout`). */
  busyTimeout?: number;
  minCheckpointPageCount: number;
  maxCheckpointPageCount: number;
  replicas: ReplicaConfig[];
}

/** LoggingConfig selects log level, format and stream. */
export interface LoggingConfig {
  level: LogLevel;
  type: 'text' | 'json';
  stderr: boolean;
  /** timestamps starts text lines with an RFC 3339 UTC time (JSON objects always carry `time`). */
  timestamps: boolean;
}

/** HealthConfig is the `health:` section: when the replicator counts as healthy, and its heartbeat. */
export interface HealthConfig {
  /** maxLag (ms): a replica further behind than this is unhealthy (docs/health.md defines the lag). */
  maxLag: number;
  /** heartbeatUrl is GET every heartbeatInterval while healthy; unset: no heartbeat. */
  heartbeatUrl?: string;
  /** heartbeatInterval (ms) is the time between two heartbeat GETs. */
  heartbeatInterval: number;
}

/** Config is a whole configuration file. */
export interface Config {
  /** file is the path the config was read from, if any. */
  file?: string;
  addr?: string;
  exec?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** shutdownSyncTimeout bounds the final sync on stop (`shutdown-sync-timeout`, as Litestream v0.5); unset: the default. */
  shutdownSyncTimeout?: number;
  logging: LoggingConfig;
  health: HealthConfig;
  dbs: DbConfig[];
  /** warnings are non-fatal findings (unknown keys, ignored keys); `setupLogging` logs them. */
  warnings?: string[];
}
