/**
 * heartbeat: `health.heartbeat-url` gets a GET every `health.heartbeat-interval` while the
 * replicator is healthy, and nothing while it is not (or not running): a dead-man's switch
 * such as healthchecks.io, Better Stack or Cronitor alerts on the silence. The URL often
 * holds a secret token, so logs name only its origin, and every URL in an error is replaced
 * by that origin.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';

/** HEARTBEAT_TIMEOUT bounds one GET (ms); a ping still in flight makes the next tick skip. */
export const HEARTBEAT_TIMEOUT = 10_000;

/** HeartbeatOptions: where, how often, the health to check before each ping, and the log. */
export interface HeartbeatOptions {
  url: string;
  intervalMs: number;
  healthy: () => boolean;
  log: Logger;
}

/** Heartbeat is a running heartbeat; `stop` ends it (no ping after). */
export interface Heartbeat {
  stop(): void;
}

/** startHeartbeat pings at once if healthy, then every interval. */
export function startHeartbeat(opts: HeartbeatOptions): Heartbeat {
  const origin = new URL(opts.url).origin;
  let inFlight = false;
  let stopped = false;
  let lastProblem: string | undefined;
  const report = (problem: string | undefined): void => {
    if (problem === lastProblem) return;
    if (problem) opts.log.warn('heartbeat failed', { to: origin, error: problem });
    else if (lastProblem) opts.log.info('heartbeat recovered', { to: origin });
    lastProblem = problem;
  };
  const tick = async (): Promise<void> => {
    if (stopped || inFlight) return;
    inFlight = true;
    try {
      if (!opts.healthy()) return;
      const res = await fetch(opts.url, { signal: AbortSignal.timeout(HEARTBEAT_TIMEOUT) });
      await res.arrayBuffer();
      report(res.ok ? undefined : `HTTP ${res.status}`);
    } catch (err) {
      report(scrubUrls(fetchError(err), origin));
    } finally {
      inFlight = false;
    }
  };
  const timer = setInterval(() => void tick(), opts.intervalMs);
  timer.unref();
  void tick();
  opts.log.info('heartbeat on', { to: origin, interval_ms: opts.intervalMs });
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** scrubUrls replaces every URL in `message` (a fetch error may quote the whole URL, token and all) by `origin`. */
export function scrubUrls(message: string, origin: string): string {
  return message.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*/gi, origin);
}

/** fetchError is fetch's failure with its cause (`fetch failed: ECONNREFUSED`), never the URL. */
function fetchError(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
  const detail = cause?.code ?? (cause instanceof Error ? cause.message : undefined);
  return detail ? `${errorMessage(err)}: ${detail}` : errorMessage(err);
}
