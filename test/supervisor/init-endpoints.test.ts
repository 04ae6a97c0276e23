import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import { InitCounters, initMetrics, initStatus, viewReplicator, type InitSource, type ReplicatorView } from '../../src/supervisor/init-endpoints.js';
import { tmpDir } from '../helpers/tmp.js';

function source(view: ReplicatorView, withDb = true): InitSource {
  const dir = tmpDir('lb-ie-');
  const raw = withDb ? { dbs: [{ path: path.join(dir, 'app.db'), replicas: [{ name: 'backup', path: path.join(dir, 'r') }] }] } : {};
  const config = validateConfig(raw, { paths: { cwd: dir, home: dir } });
  const counters = new InitCounters();
  return { config, replicator: () => view, counters, services: () => (withDb ? ['replicate', 'svc'] : ['svc']) };
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
