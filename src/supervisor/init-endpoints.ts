/**
 * init-endpoints: under `lifeboat init` the config's `addr` is served by the init, not by
 * the replicator (started with `-addr=`), so it answers while the replicator restores,
 * restarts or crash-loops:
 *   - `/`: the status page (status-page.ts);
 *   - `/healthz`: 200 while the replicator runs and every replica is within max-lag; 503
 *     naming why not (starting, down, in a crash loop, not answering, a replica behind);
 *   - `/status`: the same document, always 200, with the services; `?history=1` adds the
 *     replicas' lag history (the replicator's) and the init's last log lines, which hold
 *     the services' output;
 *   - `/metrics`: the replicator's metrics (asked on its control socket) and the init's own
 *     (uptime, restarts per service, restore on boot, the replicator up).
 * The endpoint is not needed to lose nothing: when `addr` cannot be bound (busy, say) the
 * init logs one warning and boots on without it.
 */
import { nowMs } from '../clock.js';
import type { Config } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { recentLines } from '../recent-lines.js';
import { askReplicator } from '../replicator/control-socket.js';
import { jsonReply, PROMETHEUS_TYPE, type HttpServer, type Routes } from '../replicator/http-server.js';
import { renderFamily, type Family } from '../replicator/metrics.js';
import { askStatus, unknownDb } from '../replicator/status-client.js';
import { statusPageReply } from '../replicator/status-page.js';
import { judge, STATUS_VERSION, wantsHistory, type DbStatus, type ReplicatorState, type StatusDoc } from '../replicator/status.js';
import { REPLICATOR_NAME } from './builtin.js';
import type { InitCounters } from './init-counters.js';
import { serviceRows, type ServiceView } from './service-rows.js';
import type { Phase } from './service-table.js';

/** ReplicatorView is the replicator as the init sees it: its state, and the problem to report when not running. */
export interface ReplicatorView {
  state: ReplicatorState;
  problem?: string;
}

/** ReplicatorFacts are what the init knows of its replicator: whether there is one to run, its crash-loop report, its phase (undefined: not started). */
export interface ReplicatorFacts {
  replicates: boolean;
  crashLoop?: string;
  phase?: Phase;
}

/** viewReplicator turns the facts into a state and the problem /healthz reports. Pure. */
export function viewReplicator(f: ReplicatorFacts): ReplicatorView {
  if (!f.replicates) return { state: 'not-running' };
  if (f.crashLoop) return { state: 'crash-loop', problem: f.crashLoop };
  if (f.phase === 'up') return { state: 'running' };
  if (f.phase === undefined || f.phase === 'down') return { state: 'starting', problem: 'replicator not started yet (the boot restores the databases first)' };
  if (f.phase === 'starting') return { state: 'starting', problem: 'replicator starting: not ready yet' };
  return { state: 'down', problem: `replicator down (${f.phase})` };
}

/** InitSource is what the init's endpoints read. */
export interface InitSource {
  config: Config;
  replicator(): ReplicatorView;
  counters: InitCounters;
  /** services names every service the init supervises (their restart counters start at 0). */
  services(): string[];
  /** serviceViews are the services started so far, the replicator among them. */
  serviceViews(): readonly ServiceView[];
}

/** InitEndpointsOptions: what the init's endpoints read from the init, as it changes. */
export interface InitEndpointsOptions {
  config: Config;
  counters: InitCounters;
  /** replicatorPhase is the built-in replicator's phase; undefined while not started. */
  replicatorPhase(): Phase | undefined;
  /** crashLoop is the replicator's crash-loop report while it lasts. */
  crashLoop(): string | undefined;
  /** serviceNames are the services.d services and the v3 tree's longruns and oneshots (the replicator is added once started). */
  serviceNames(): string[];
  /** serviceViews are the services started so far (the replicator, services.d's, the v3 tree's). */
  serviceViews(): readonly ServiceView[];
  log: Logger;
}

/** InitEndpoints serves the config's `addr` for the init; `close` ends it. */
export class InitEndpoints implements InitSource {
  readonly config: Config;
  readonly counters: InitCounters;
  private server?: HttpServer;

  constructor(private readonly opts: InitEndpointsOptions) {
    this.config = opts.config;
    this.counters = opts.counters;
  }

  /** listen serves the config's addr, if any; a failure to bind is one warning, not a failure of the boot. */
  async listen(): Promise<void> {
    const addr = this.config.addr;
    if (!addr) return;
    const { serveAddr } = await import('../replicator/http-server.js');
    try {
      this.server = await serveAddr(addr, initRoutes(this));
    } catch (err) {
      this.opts.log.warn('no /healthz, /metrics or /status: booting on without them (replication does not need them)', { addr, error: errorMessage(err) });
      return;
    }
    this.opts.log.info('metrics listening', { addr: this.server.address, paths: '/,/healthz,/metrics,/status' });
  }

  /** replicator is the replicator's state for /healthz. */
  replicator(): ReplicatorView {
    return viewReplicator({ replicates: this.config.dbs.length > 0, crashLoop: this.opts.crashLoop(), phase: this.opts.replicatorPhase() });
  }

  /** services names every supervised service, the replicator first once started. */
  services(): string[] {
    return [...(this.opts.replicatorPhase() === undefined ? [] : [REPLICATOR_NAME]), ...this.opts.serviceNames()];
  }

  /** serviceViews are the services started so far. */
  serviceViews(): readonly ServiceView[] {
    return this.opts.serviceViews();
  }

  /** close stops serving. */
  async close(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}

/** initRoutes answers `/`, `/healthz`, `/status` and `/metrics` for the init. */
export function initRoutes(src: InitSource): Routes {
  return {
    '/': statusPageReply,
    '/healthz': async () => {
      const doc = await initStatus(src);
      return jsonReply(doc, doc.healthy ? 200 : 503);
    },
    '/status': async (query) => {
      if (!wantsHistory(query)) return jsonReply(await initStatus(src));
      return jsonReply({ ...(await initStatus(src, true)), recent_log: recentLines.lines() });
    },
    '/metrics': async () => ({ status: 200, type: PROMETHEUS_TYPE, body: await initMetrics(src) }),
  };
}

/**
 * initStatus is the status document as the init sees it: the replicator's own (asked on the
 * control sockets; with `history`, the lag histories too) when it runs, the init's problem
 * with it otherwise, judged again; then the services.
 */
export async function initStatus(src: InitSource, history = false): Promise<StatusDoc> {
  const { config } = src;
  const view = src.replicator();
  const problems = view.problem ? [view.problem] : [];
  let databases: DbStatus[] = config.dbs.map(unknownDb);
  let pid: number | undefined;
  if (view.state === 'running' || view.state === 'crash-loop') {
    const asked = await askStatus(config.dbs, history);
    databases = config.dbs.map((db) => {
      const a = asked.get(db.path)!;
      if ('db' in a) {
        pid = a.pid;
        return a.db;
      }
      if (view.state === 'running') problems.push(`replicator not answering for ${db.path}: ${a.unreachable}`);
      return unknownDb(db);
    });
  }
  const doc = judge({
    version: STATUS_VERSION,
    source: 'replicator',
    replicator: view.state,
    ...(pid === undefined ? {} : { pid }),
    time: new Date().toISOString(),
    uptime_ms: Math.round(process.uptime() * 1000),
    max_lag_ms: config.health.maxLag,
    problems,
    databases,
  });
  return { ...doc, services: serviceRows(src.services(), src.serviceViews(), src.counters.restarts, nowMs()) };
}

/**
 * initMetrics is the replicator's metrics (when it answers) followed by the init's. Every
 * database's control socket serves the same metrics: the first that answers is used (one
 * database without a socket — a path too long, say — does not hide them).
 */
export async function initMetrics(src: InitSource): Promise<string> {
  let replicator = '';
  if (src.replicator().state !== 'starting') {
    for (const db of src.config.dbs) {
      try {
        const reply = await askReplicator(db.path, '/metrics');
        if (reply.status === 200) {
          replicator = reply.body;
          break;
        }
      } catch {
        // down or not answering here: the next database's socket, else lifeboat_replicator_up 0
      }
    }
  }
  return replicator + initFamilies(src, replicator !== '').map(renderFamily).join('');
}

/** initFamilies are the init's own metric families. */
function initFamilies(src: InitSource, answering: boolean): Family[] {
  const { counters } = src;
  const names = new Set([...src.services(), ...counters.restarts.keys()]);
  return [
    {
      name: 'lifeboat_init_uptime_seconds',
      type: 'gauge',
      help: 'Seconds since the init started',
      samples: [{ labels: {}, value: process.uptime() }],
    },
    {
      name: 'lifeboat_service_restarts_total',
      type: 'counter',
      help: 'Restarts of each supervised service after it exited (the replicator is "replicate")',
      samples: [...names].sort().map((service) => ({ labels: { service }, value: counters.restarts.get(service) ?? 0 })),
    },
    {
      name: 'lifeboat_replicator_up',
      type: 'gauge',
      help: 'The replicator runs and answers on its control socket (1) or not (0)',
      samples: src.config.dbs.length > 0 ? [{ labels: {}, value: answering ? 1 : 0 }] : [],
    },
    {
      name: 'lifeboat_restore_duration_seconds',
      type: 'gauge',
      help: 'Time the restore of a missing database took at boot',
      samples: counters.restores.map((r) => ({ labels: { db: r.db }, value: r.ms / 1000 })),
    },
    {
      name: 'lifeboat_restore_bytes',
      type: 'gauge',
      help: 'Size of the database restored at boot, in bytes',
      samples: counters.restores.map((r) => ({ labels: { db: r.db }, value: r.bytes })),
    },
  ];
}
