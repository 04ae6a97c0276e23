/**
 * endpoints: what a running replicator offers besides replication — the status page `/`,
 * `/metrics`, `/healthz` and `/status` on the config's `addr` and on each database's
 * control socket (control-socket.ts), and the heartbeat (heartbeat.ts). `/healthz` is 200
 * while healthy, 503 otherwise; both carry the status document (status.ts), which
 * `/status?history=1` extends with each replica's lag over the last hour and the last log
 * lines (what the page shows).
 */
import { fs } from '../builtin.js';
import path from 'node:path';
import type { HealthConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { recentLines } from '../recent-lines.js';
import { listenControlSocket } from './control-socket.js';
import type { Db } from './db.js';
import { startHeartbeat, type Heartbeat } from './heartbeat.js';
import { jsonReply, PROMETHEUS_TYPE, serveAddr, type HttpServer, type Routes } from './http-server.js';
import { renderMetrics } from './metrics.js';
import type { Replicator } from './replicator.js';
import { buildStatus, wantsHistory } from './status.js';
import { statusPageReply } from './status-page.js';

/** replicatorRoutes answers `/`, `/metrics`, `/healthz` and `/status` from the running replicator. */
export function replicatorRoutes(replicator: Replicator, health: HealthConfig): Routes {
  const status = () => buildStatus(replicator.runners, health.maxLag);
  return {
    '/': statusPageReply,
    '/metrics': () => ({ status: 200, type: PROMETHEUS_TYPE, body: renderMetrics(replicator.runners) }),
    '/healthz': () => {
      const doc = status();
      return jsonReply(doc, doc.healthy ? 200 : 503);
    },
    '/status': (query) => {
      if (!wantsHistory(query)) return jsonReply(status());
      return jsonReply({ ...buildStatus(replicator.runners, health.maxLag, Date.now(), true), recent_log: recentLines.lines() });
    },
  };
}


/** Endpoints are the started servers and heartbeat; `close` ends them. */
export class Endpoints {
  private readonly servers: HttpServer[] = [];
  private heartbeat: Heartbeat | undefined;
  /** pending removes the waits for databases not yet opened (their socket comes at the open). */
  private readonly pending: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly replicator: Replicator,
    private readonly health: HealthConfig,
    private readonly log: Logger,
  ) {}

  /**
   * listen serves `addr`; resolves with the bound address, or — when it cannot bind (busy,
   * say) — logs one warning and resolves undefined: replication does not need the endpoint.
   */
  async listen(addr: string): Promise<string | undefined> {
    let server: HttpServer;
    try {
      server = await serveAddr(addr, replicatorRoutes(this.replicator, this.health));
    } catch (err) {
      this.log.warn('no /healthz, /metrics or /status: replicating without them', { addr, error: errorMessage(err) });
      return undefined;
    }
    this.servers.push(server);
    return server.address;
  }

  /**
   * startLocal opens each database's control socket and starts the heartbeat (after
   * Replicator.start: its writer locks are held). A database whose directory does not exist
   * yet (first boot: the app creates it) gets its socket once the database is opened.
   */
  async startLocal(): Promise<void> {
    const routes = replicatorRoutes(this.replicator, this.health);
    for (const r of this.replicator.runners) {
      if (r.db.state === 'open' || fs.existsSync(path.dirname(r.db.path))) {
        await this.openSocket(r.db, routes);
        continue;
      }
      const onOpen = (): void => void this.openSocket(r.db, routes);
      r.db.once('open', onOpen);
      this.pending.push(() => r.db.off('open', onOpen));
    }
    const { heartbeatUrl } = this.health;
    if (heartbeatUrl) {
      this.heartbeat = startHeartbeat({
        url: heartbeatUrl,
        intervalMs: this.health.heartbeatInterval,
        healthy: () => this.healthy(),
        log: this.log,
      });
    }
  }

  /** openSocket opens `db`'s control socket, unless closed meanwhile. */
  private async openSocket(db: Db, routes: Routes): Promise<void> {
    if (this.closed) return;
    const server = await listenControlSocket(db.path, routes, db.log);
    if (!server) return;
    if (this.closed) await server.close();
    else this.servers.push(server);
  }

  /** healthy is what the heartbeat checks: the status is healthy and the replicator not stopping. */
  healthy(): boolean {
    return !this.replicator.stopping && buildStatus(this.replicator.runners, this.health.maxLag).healthy;
  }

  /** stopHeartbeat ends the heartbeat (at the stop: a stopping replicator is not a healthy one). */
  stopHeartbeat(): void {
    this.heartbeat?.stop();
  }

  /** close ends the heartbeat and closes every server (control sockets are removed). */
  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.pending.splice(0)) off();
    this.stopHeartbeat();
    await Promise.all(this.servers.splice(0).map((s) => s.close()));
  }
}
