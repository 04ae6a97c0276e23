/**
 * metrics: the replicator's state in the Prometheus text format, served on `addr`
 * (http-server.ts). The `litestream_*` families keep the reference v0.3's names, labels
 * and meanings, so its dashboards and alerts work unchanged; `lifeboat_*` ones are ours.
 */
import { fs } from '../builtin.js';
import type { DbRunner } from './replicator.js';

/** Sample is one value of a family, with its labels. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Family is one metric name with its help, type and samples. */
export interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: Sample[];
}

/** renderMetrics renders every database of `runners` and its replicas. */
export function renderMetrics(runners: readonly DbRunner[]): string {
  const families: Family[] = [];
  const family = (name: string, type: Family['type'], help: string): Sample[] => {
    const f: Family = { name, help, type, samples: [] };
    families.push(f);
    return f.samples;
  };
  const dbSize = family('litestream_db_size', 'gauge', 'The current size of the real DB');
  const walSize = family('litestream_wal_size', 'gauge', 'The current size of the real WAL');
  const walBytes = family('litestream_total_wal_bytes', 'counter', 'Total number of bytes written to shadow WAL');
  const shadowIndex = family('litestream_shadow_wal_index', 'gauge', 'The current index of the shadow WAL');
  const shadowSize = family('litestream_shadow_wal_size', 'gauge', 'Current size of shadow WAL, in bytes');
  const syncs = family('litestream_sync_count', 'counter', 'Number of sync operations performed');
  const syncErrors = family('litestream_sync_error_count', 'counter', 'Number of sync errors that have occurred');
  const syncSeconds = family('litestream_sync_seconds', 'counter', 'Time spent syncing shadow WAL, in seconds');
  const ckpts = family('litestream_checkpoint_count', 'counter', 'Number of checkpoint operations performed');
  const ckptErrors = family('litestream_checkpoint_error_count', 'counter', 'Number of checkpoint errors that have occurred');
  const ckptSeconds = family('litestream_checkpoint_seconds', 'counter', 'Time spent checkpointing WAL, in seconds');
  const repIndex = family('litestream_replica_wal_index', 'gauge', 'The current WAL index');
  const repOffset = family('litestream_replica_wal_offset', 'gauge', 'The current WAL offset');
  const repErrors = family('lifeboat_replica_sync_error_count', 'counter', 'Number of failed uploads to the replica');
  const repCaughtUp = family(
    'lifeboat_replica_caught_up_timestamp_seconds',
    'gauge',
    'When an upload last left the replica holding the database position (Unix time)',
  );
  const repLag = family(
    'lifeboat_replica_lag_seconds',
    'gauge',
    'How far the replica is behind the database: time since it last held every committed transaction (0 while caught up)',
  );

  const now = Date.now();
  for (const runner of runners) {
    const { db } = runner;
    const l = { db: db.path };
    dbSize.push({ labels: l, value: fileSize(db.path) });
    walSize.push({ labels: l, value: fileSize(db.walPath) });
    walBytes.push({ labels: l, value: db.appendedBytes });
    const pos = db.pos();
    if (pos) {
      shadowIndex.push({ labels: l, value: pos.index });
      shadowSize.push({ labels: l, value: pos.offset });
    }
    syncs.push({ labels: l, value: db.stats.syncs });
    syncErrors.push({ labels: l, value: db.stats.syncErrors });
    syncSeconds.push({ labels: l, value: db.stats.syncSeconds });
    for (const [mode, c] of db.stats.checkpoints) {
      const lm = { ...l, mode };
      ckpts.push({ labels: lm, value: c.count });
      ckptErrors.push({ labels: lm, value: c.errors });
      ckptSeconds.push({ labels: lm, value: c.seconds });
    }
    for (const r of runner.replicas) {
      const lr = { ...l, name: r.name };
      const held = r.restorablePos;
      if (held) {
        repIndex.push({ labels: lr, value: held.index });
        repOffset.push({ labels: lr, value: held.offset });
      }
      repErrors.push({ labels: lr, value: r.stats.syncErrors });
      if (db.state === 'open') repLag.push({ labels: lr, value: runner.lag(r, now) / 1000 });
      if (r.stats.caughtUpAt !== undefined) repCaughtUp.push({ labels: lr, value: r.stats.caughtUpAt / 1000 });
    }
  }
  return families.map(renderFamily).join('');
}

/** renderFamily writes HELP, TYPE and one line per sample. */
export function renderFamily(f: Family): string {
  const lines = [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`];
  for (const s of f.samples) {
    const labels = renderLabels(s.labels);
    lines.push(`${f.name}${labels ? `{${labels}}` : ''} ${s.value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** renderLabels writes `k="v"` pairs, escaping backslash, double quote and newline. */
export function renderLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}

function fileSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}
