/**
 * metrics: read a running `lifeboat replicate`'s metrics endpoint (config `addr`) — to see
 * when it has settled (every replica holds the shadow WAL's position) and to count its
 * wake-ups (`litestream_sync_count`) without sleeping a fixed time.
 */
import type { Running } from './replicate.js';
import { waitUntil } from './wait.js';

/** Metrics maps each sample's `name{labels}` to its value. */
export type Metrics = Map<string, number>;

/** metricsBase waits for the `metrics listening` line and returns `http://HOST:PORT`. */
export async function metricsBase(rep: Running): Promise<string> {
  const line = await rep.waitFor(/metrics listening/);
  const addr = /addr=(\S+)/.exec(line);
  if (!addr) throw new Error(`no addr= in ${JSON.stringify(line)}`);
  return `http://${addr[1]}`;
}

/** fetchMetrics fetches `/metrics` and parses each sample line into `name{labels}` → value. */
export async function fetchMetrics(base: string): Promise<Metrics> {
  const res = await fetch(`${base}/metrics`);
  if (res.status !== 200) throw new Error(`GET ${base}/metrics: ${res.status}`);
  const out: Metrics = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Positions are where the shadow WAL of `db` and its replica `name` stand, from one scrape. */
export interface Positions {
  shadow: { index: number; offset: number } | undefined;
  replica: { index: number; offset: number } | undefined;
  /** syncs is `litestream_sync_count`: how many times the database was looked at. */
  syncs: number;
  /** checkpoints is `litestream_checkpoint_count` per mode. */
  checkpoints: Record<string, number>;
}

/** positions reads the shadow WAL's and replica `name`'s positions of `db` from `m`. */
export function positions(m: Metrics, db: string, name: string): Positions {
  const d = `{db="${db}"}`;
  const r = `{db="${db}",name="${name}"}`;
  const pair = (index: string, offset: string) => {
    const i = m.get(index);
    const o = m.get(offset);
    return i === undefined || o === undefined ? undefined : { index: i, offset: o };
  };
  const checkpoints: Record<string, number> = {};
  const prefix = `litestream_checkpoint_count{db="${db}",mode="`;
  for (const [k, v] of m) if (k.startsWith(prefix)) checkpoints[k.slice(prefix.length, -2)] = v;
  return {
    shadow: pair(`litestream_shadow_wal_index${d}`, `litestream_shadow_wal_size${d}`),
    replica: pair(`litestream_replica_wal_index${r}`, `litestream_replica_wal_offset${r}`),
    syncs: m.get(`litestream_sync_count${d}`) ?? 0,
    checkpoints,
  };
}

/** caughtUp reports whether the replica holds exactly the shadow WAL's position. */
export function caughtUp(p: Positions): boolean {
  return p.shadow !== undefined && p.replica !== undefined && p.shadow.index === p.replica.index && p.shadow.offset === p.replica.offset;
}

/**
 * waitForSyncs waits until the database has been looked at `n` more times than in `from`
 * (a window measured in the replicator's own wake-ups rather than in wall-clock time),
 * and returns the positions then.
 */
export async function waitForSyncs(base: string, db: string, name: string, from: Positions, n: number, timeoutMs = 120_000): Promise<Positions> {
  return waitUntil(
    async () => {
      const p = positions(await fetchMetrics(base), db, name);
      return p.syncs >= from.syncs + n ? p : undefined;
    },
    { what: `${n} more syncs of ${db} than ${from.syncs}`, timeoutMs, intervalMs: 100 },
  );
}
