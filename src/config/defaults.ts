/** defaults: every configuration default, named once (milliseconds for durations). */

/** DEFAULT_MONITOR_INTERVAL is how often each database is checked even without file events. */
export const DEFAULT_MONITOR_INTERVAL = 1_000;

/** DEFAULT_CHECKPOINT_INTERVAL: PASSIVE checkpoint when the db file is older than this. */
export const DEFAULT_CHECKPOINT_INTERVAL = 60_000;

/** DEFAULT_MIN_CHECKPOINT_PAGE_COUNT: PASSIVE checkpoint at this many shadow WAL pages. */
export const DEFAULT_MIN_CHECKPOINT_PAGE_COUNT = 1_000;

/** DEFAULT_MAX_CHECKPOINT_PAGE_COUNT: RESTART checkpoint at this many shadow WAL pages (0 = off). */
export const DEFAULT_MAX_CHECKPOINT_PAGE_COUNT = 10_000;

/** TRUNCATE_CHECKPOINT_PAGE_COUNT: TRUNCATE checkpoint when the real WAL reaches this many pages. */
export const TRUNCATE_CHECKPOINT_PAGE_COUNT = 500_000;

/** DEFAULT_RETENTION keeps snapshots (and what they need) for 24 h. */
export const DEFAULT_RETENTION = 24 * 3_600_000;

/** DEFAULT_RETENTION_CHECK_INTERVAL is how often retention runs (capped at the retention). */
export const DEFAULT_RETENTION_CHECK_INTERVAL = 3_600_000;

/** DEFAULT_FILE_SYNC_INTERVAL: file replicas upload every commit at once. */
export const DEFAULT_FILE_SYNC_INTERVAL = 0;

/** DEFAULT_S3_SYNC_INTERVAL: object stores upload at most once a second (request cost). */
export const DEFAULT_S3_SYNC_INTERVAL = 1_000;

/** DEFAULT_SNAPSHOT_INTERVAL: 0 = snapshots only at generation start and when retention needs one. */
export const DEFAULT_SNAPSHOT_INTERVAL = 0;

/** DEFAULT_VALIDATION_INTERVAL: 0 = off. */
export const DEFAULT_VALIDATION_INTERVAL = 0;

/** DEFAULT_S3_REGION is the region used with a custom endpoint when none is given. */
export const DEFAULT_S3_REGION = 'us-east-1';

/** CONFIG_SEARCH_PATHS are tried in order when neither -config nor an env var names a file. */
export const CONFIG_SEARCH_PATHS = ['/etc/lifeboat.yml', '/etc/litestream.yml'];

/** CONFIG_ENV_VARS name a config file when no -config flag is given, first set wins. */
export const CONFIG_ENV_VARS = ['LIFEBOAT_CONFIG', 'LITESTREAM_CONFIG'];

/**
 * DEFAULT_CONFIG_ENV names the config used when the user gave none — no -config, no
 * CONFIG_ENV_VARS, no file of CONFIG_SEARCH_PATHS — and it exists: the image's demo config.
 */
export const DEFAULT_CONFIG_ENV = 'LIFEBOAT_DEFAULT_CONFIG';

/** DEFAULT_BUSY_TIMEOUT is SQLite's busy timeout on our connections. */
export const DEFAULT_BUSY_TIMEOUT = 1_000;

/** DEFAULT_LOG_LEVEL is the level used when `logging.level` is not set. */
export const DEFAULT_LOG_LEVEL = 'info';

/** DEFAULT_LOG_STDERR: Lifeboat logs to stderr unless `logging.stderr: false` (Litestream: stdout). */
export const DEFAULT_LOG_STDERR = true;

/** DEFAULT_LOG_TIMESTAMPS: text lines start with an RFC 3339 UTC time unless `logging.timestamps: false`. */
export const DEFAULT_LOG_TIMESTAMPS = true;

/** LOG_TIMESTAMPS_ENV overrides `logging.timestamps` when set (0 or 1); the init sets it to 0 for the children whose lines it stamps. */
export const LOG_TIMESTAMPS_ENV = 'LIFEBOAT_LOG_TIMESTAMPS';

/**
 * DEFAULT_SHUTDOWN_SYNC_TIMEOUT bounds `replicate`'s final sync on stop: retries of a
 * failing upload go on until then, and the process exits within it (1 when the sync could
 * not finish). Well inside Fly's default 5 s kill_timeout, leaving time to exit.
 */
export const DEFAULT_SHUTDOWN_SYNC_TIMEOUT = 3_000;

/** SHUTDOWN_SYNC_INTERVAL is the wait between two attempts of a failing final sync. */
export const SHUTDOWN_SYNC_INTERVAL = 250;

/**
 * DEFAULT_HEALTH_MAX_LAG: a replica more than this far behind the database makes the
 * replicator unhealthy (`health.max-lag`, `LIFEBOAT_HEALTH_MAX_LAG`).
 */
export const DEFAULT_HEALTH_MAX_LAG = 30_000;

/** DEFAULT_HEARTBEAT_INTERVAL is the time between two heartbeat GETs while healthy (`health.heartbeat-interval`). */
export const DEFAULT_HEARTBEAT_INTERVAL = 60_000;

/** HEALTH_MAX_LAG_ENV overrides `health.max-lag` when set (a Go duration). */
export const HEALTH_MAX_LAG_ENV = 'LIFEBOAT_HEALTH_MAX_LAG';
