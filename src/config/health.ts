/**
 * health: the `health:` section — `max-lag` (how far a replica may fall behind before the
 * replicator is unhealthy; `$LIFEBOAT_HEALTH_MAX_LAG` overrides it), `heartbeat-url` and
 * `heartbeat-interval` (a GET while healthy). Durations are Go durations, as elsewhere.
 */
import { ConfigError } from '../errors.js';
import { parseDuration } from './duration.js';
import { DEFAULT_HEALTH_MAX_LAG, DEFAULT_HEARTBEAT_INTERVAL, HEALTH_MAX_LAG_ENV } from './defaults.js';
import { RawMap } from './fields.js';
import type { HealthConfig } from './types.js';

/** validateHealth reads `health:` (absent: the defaults), then applies `$LIFEBOAT_HEALTH_MAX_LAG` from `env` (it wins over the file). */
export function validateHealth(raw: unknown, env: NodeJS.ProcessEnv = {}, warnings: string[] = []): HealthConfig {
  const m = new RawMap('health', raw);
  const maxLag = m.positiveDuration('max-lag');
  const interval = m.positiveDuration('heartbeat-interval');
  const url = m.string('heartbeat-url');
  warnings.push(...m.unknownKeys().map((k) => `${k}: unknown key, ignored`));
  const health = defaultHealth();
  if (maxLag !== undefined) health.maxLag = maxLag;
  if (interval !== undefined) health.heartbeatInterval = interval;
  if (env[HEALTH_MAX_LAG_ENV]?.trim()) health.maxLag = maxLagFromEnv(env);
  if (url !== undefined && url !== '') health.heartbeatUrl = checkHeartbeatUrl(url, m.at('heartbeat-url'));
  return health;
}

/** defaultHealth is the defaults with `$LIFEBOAT_HEALTH_MAX_LAG` applied (the `DB URL…` form has no config file). */
export function defaultHealth(env: NodeJS.ProcessEnv = {}): HealthConfig {
  const health: HealthConfig = { maxLag: DEFAULT_HEALTH_MAX_LAG, heartbeatInterval: DEFAULT_HEARTBEAT_INTERVAL };
  if (env[HEALTH_MAX_LAG_ENV]?.trim()) health.maxLag = maxLagFromEnv(env);
  return health;
}

/** maxLagFromEnv parses `$LIFEBOAT_HEALTH_MAX_LAG`: a Go duration greater than 0. */
function maxLagFromEnv(env: NodeJS.ProcessEnv): number {
  const v = env[HEALTH_MAX_LAG_ENV]!.trim();
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch {
    throw new ConfigError(HEALTH_MAX_LAG_ENV, `invalid duration ${JSON.stringify(v)} (want e.g. 30s or 1m)`, v);
  }
  if (ms <= 0) throw new ConfigError(HEALTH_MAX_LAG_ENV, `must be greater than 0, got ${JSON.stringify(v)}`, v);
  return ms;
}

/**
 * checkHeartbeatUrl accepts an absolute http:// or https:// URL without a user or password
 * (fetch refuses those, and they would reach the logs). The URL often holds a secret token:
 * errors name only its scheme or origin, never the whole URL.
 */
function checkHeartbeatUrl(url: string, at: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(at, 'not an absolute URL: want http://… or https://…');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(at, `unsupported scheme ${JSON.stringify(parsed.protocol)}: want http://… or https://…`);
  }
  if (parsed.username || parsed.password) {
    throw new ConfigError(at, `a user or password in the URL (user:pass@${parsed.host}) is not supported: put the token in the path or query`);
  }
  return url;
}
