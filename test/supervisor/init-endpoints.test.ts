import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nowMs } from '../../src/clock.js';
import { validateConfig } from '../../src/config/validate.js';
import { Logger } from '../../src/log.js';
import { recentLines } from '../../src/recent-lines.js';
import { listenControlSocket } from '../../src/replicator/control-socket.js';
import { jsonReply, PROMETHEUS_TYPE } from '../../src/replicator/http-server.js';
import { STATUS_PAGE_TYPE } from '../../src/replicator/status-page.js';
import { emptyReplica, type StatusDoc } from '../../src/replicator/status.js';
import { initialState, type Phase } from '../../src/supervisor/service-table.js';
import {
  InitEndpoints,
  initMetrics,
  initRoutes,
  initStatus,
  viewReplicator,
  type InitSource,
  type ReplicatorView,
} from '../../src/supervisor/init-endpoints.js';
import { InitCounters } from '../../src/supervisor/init-counters.js';
import { tmpDir } from '../helpers/tmp.js';

function source(view: ReplicatorView, withDb = true): InitSource {
  const dir = tmpDir('lb-ie-');
  const raw = withDb ? { dbs: [{ path: path.join(dir, 'app.db'), replicas: [{ name: 'backup', path: path.join(dir, 'r') }] }] } : {};
  const config = validateConfig(raw, { paths: { cwd: dir, home: dir } });
  const counters = new InitCounters();
  return { config, replicator: () => view, counters, services: () => (withDb ? ['replicate', 'svc'] : ['svc']), serviceViews: () => [] };
}

describe('the init’s /healthz view', () => {
  it('the replicator down or starting: unhealthy, the databases unknown, the problem first', async () => {
    const down = await initStatus(source({ state: 'down', problem: 'replicator down (backoff)' }));
    expect(down).toMatchObject({ healthy: false, replicator: 'down', problems: ['replicator down (backoff)'] });
    expect(down.databases[0]).toMatchObject({ state: 'unknown', position: null });
    expect(down.databases[0].replicas[0]).toMatchObject({ name: 'backup', lag_ms: null });
    const starting = await initStatus(source({ state: 'starting', problem: 'replicator starting: not ready yet' }));
    expect(starting.healthy).toBe(false);
  });

  it('running but not answering on its control socket: unhealthy, saying so', async () => {
    const s = source({ state: 'running' });
    const doc = await initStatus(s);
    expect(doc.healthy).toBe(false);
    expect(doc.problems).toEqual([`replicator not answering for ${s.config.dbs[0].path}: no control socket ${path.join(path.dirname(s.config.dbs[0].path), '.app.db-lifeboat.sock')}`]);
  });

  it('no databases: healthy, nothing to replicate', async () => {
    const doc = await initStatus(source({ state: 'not-running' }, false));
    expect(doc).toMatchObject({ healthy: true, databases: [], problems: [] });
  });

  it('metrics: uptime, restarts per service (0 until one), restore on boot, the replicator not up', async () => {
    const s = source({ state: 'down', problem: 'replicator down (backoff)' });
    s.counters.restarted('replicate');
    s.counters.restarted('replicate');
    s.counters.restores.push({ db: '/data/app.db', ms: 1500, bytes: 8192 });
    const text = await initMetrics(s);
    expect(text).toMatch(/^lifeboat_init_uptime_seconds \d+(\.\d+)?$/m);
    expect(text).toContain('lifeboat_service_restarts_total{service="replicate"} 2\n');
    expect(text).toContain('lifeboat_service_restarts_total{service="svc"} 0\n');
    expect(text).toContain('lifeboat_replicator_up 0\n');
    expect(text).toContain('lifeboat_restore_duration_seconds{db="/data/app.db"} 1.5\n');
    expect(text).toContain('lifeboat_restore_bytes{db="/data/app.db"} 8192\n');
    expect(text).toContain('# TYPE lifeboat_service_restarts_total counter\n');
  });
});

describe('the init’s /metrics with several databases', () => {
  it('takes the replicator’s metrics from the first database whose control socket answers', async () => {
    const dir = tmpDir('lb-ie-');
    const dbs = ['no-socket.db', 'app.db'].map((f) => ({ path: path.join(dir, f), replicas: [{ name: 'backup', path: path.join(dir, `r-${f}`) }] }));
    const config = validateConfig({ dbs }, { paths: { cwd: dir, home: dir } });
    const body = 'litestream_db_size{db="x"} 4096\n';
    const server = await listenControlSocket(dbs[1].path, { '/metrics': () => ({ status: 200, type: PROMETHEUS_TYPE, body }) }, new Logger({ write: () => {} }));
    try {
      const src: InitSource = { config, replicator: () => ({ state: 'running' }), counters: new InitCounters(), services: () => ['replicate'], serviceViews: () => [] };
      const text = await initMetrics(src);
      expect(text.startsWith(body)).toBe(true);
      expect(text).toContain('lifeboat_replicator_up 1\n');
    } finally {
      await server!.close();
    }
  });
});

describe('the init’s /status with services and history', () => {
  it('lists the services with their restarts; ?history=1 relays the replicator’s lag history and adds the init’s last log lines', async () => {
    const dir = tmpDir('lb-ie-');
    const dbPath = path.join(dir, 'app.db');
    const config = validateConfig({ dbs: [{ path: dbPath, replicas: [{ name: 'backup', path: path.join(dir, 'r') }] }] }, { paths: { cwd: dir, home: dir } });
    const asked: string[] = [];
    // A replicator on the control socket: the lag history only when asked for it.
    const server = await listenControlSocket(dbPath, {
      '/status': (query) => {
        asked.push(query.toString());
        const replica = { ...emptyReplica('backup'), lag_ms: 1200, ...(query.get('history') === '1' ? { lag_history: [[1, 0], [2, 1200]] } : {}) };
        return jsonReply({ pid: 4242, databases: [{ path: dbPath, state: 'open', position: null, replicas: [replica] }] });
      },
    }, new Logger({ write: () => {} }));
    const counters = new InitCounters();
    counters.restarted('svc');
    const up = { ...initialState(), phase: 'up' as const, startedAt: nowMs() - 5_000 };
    const src: InitSource = { config, replicator: () => ({ state: 'running' }), counters, services: () => ['replicate', 'svc'], serviceViews: () => [{ name: 'svc', state: up, pid: 77 }] };
    recentLines.add('svc | hello from svc\n');
    try {
      const routes = initRoutes(src);
      const plain = JSON.parse((await routes['/status'](new URLSearchParams())).body) as StatusDoc;
      expect(plain.services).toEqual([
        { name: 'replicate', state: 'down', pid: null, uptime_ms: null, restarts: 0, last_exit: null, unhealthy: false },
        { name: 'svc', state: 'up', pid: 77, uptime_ms: expect.any(Number), restarts: 1, last_exit: null, unhealthy: false },
      ]);
      expect(plain.services![1].uptime_ms).toBeGreaterThanOrEqual(5_000);
      expect(plain.services![1].uptime_ms).toBeLessThan(60_000);
      expect(plain.uptime_ms).toBeGreaterThan(0);
      expect(plain.databases[0].replicas[0]).not.toHaveProperty('lag_history');
      expect(plain).not.toHaveProperty('recent_log');
      const full = JSON.parse((await routes['/status'](new URLSearchParams('history=1'))).body) as StatusDoc;
      expect(full.databases[0].replicas[0].lag_history).toEqual([[1, 0], [2, 1200]]);
      expect(full.recent_log).toContain('svc | hello from svc');
      expect(asked).toEqual(['', 'history=1']);
      const page = await routes['/'](new URLSearchParams());
      expect(page.type).toBe(STATUS_PAGE_TYPE);
      expect(page.body).toMatch(/^<!doctype html>/);
    } finally {
      await server!.close();
    }
  });
});

describe('InitEndpoints', () => {
  it('names the replicator among the services once started, and views it from its phase and crash loop', () => {
    const dir = tmpDir('lb-ie-');
    const config = validateConfig({ dbs: [{ path: path.join(dir, 'app.db'), replicas: [{ name: 'backup', path: path.join(dir, 'r') }] }] }, { paths: { cwd: dir, home: dir } });
    let phase: Phase | undefined;
    let crashLoop: string | undefined;
    const e = new InitEndpoints({ config, counters: new InitCounters(), replicatorPhase: () => phase, crashLoop: () => crashLoop, serviceNames: () => ['svc'], serviceViews: () => [], log: new Logger({ write: () => {} }) });
    expect(e.services()).toEqual(['svc']);
    expect(e.replicator().state).toBe('starting');
    phase = 'up';
    expect(e.services()).toEqual(['replicate', 'svc']);
    expect(e.replicator()).toEqual({ state: 'running' });
    crashLoop = 'replicator crash loop: 5 exits';
    expect(e.replicator()).toEqual({ state: 'crash-loop', problem: crashLoop });
  });
});

describe('viewReplicator', () => {
  it('maps the replicator’s phase and crash loop to a state and a problem', () => {
    expect(viewReplicator({ replicates: false })).toEqual({ state: 'not-running' });
    expect(viewReplicator({ replicates: true })).toEqual({ state: 'starting', problem: 'replicator not started yet (the boot restores the databases first)' });
    expect(viewReplicator({ replicates: true, phase: 'starting' })).toEqual({ state: 'starting', problem: 'replicator starting: not ready yet' });
    expect(viewReplicator({ replicates: true, phase: 'up' })).toEqual({ state: 'running' });
    expect(viewReplicator({ replicates: true, phase: 'backoff' })).toEqual({ state: 'down', problem: 'replicator down (backoff)' });
    expect(viewReplicator({ replicates: true, phase: 'up', crashLoop: 'replicator crash loop: 5 exits' })).toEqual({ state: 'crash-loop', problem: 'replicator crash loop: 5 exits' });
  });
});
