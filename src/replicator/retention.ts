/**
 * retention: keep snapshots newer than the retention period (taking one first if none
 * would remain in the current generation); delete older snapshots, WAL segments below the
 * oldest kept snapshot, and other generations with no kept snapshot.
 */
import type { Logger } from '../log.js';
import type { Pos } from './pos.js';
import type { ReplicaClient, SnapshotInfo, WALSegmentInfo } from './replica-client.js';

/** RetentionPlan lists what one retention pass deletes. */
export interface RetentionPlan {
  generations: string[];
  snapshots: SnapshotInfo[];
  segments: WALSegmentInfo[];
}

/** RetentionInput is a replica's listing and the current state. */
export interface RetentionInput {
  current: string;
  cutoff: number;
  snapshots: SnapshotInfo[];
  segments: WALSegmentInfo[];
  generations: string[];
}

/**
 * planRetention decides deletions (pure). The current generation is never deleted; the
 * caller guarantees it holds a kept snapshot.
 */
export function planRetention(i: RetentionInput): RetentionPlan {
  const minKept = new Map<string, number>();
  for (const s of i.snapshots) {
    if (s.createdAt.getTime() <= i.cutoff) continue;
    const m = minKept.get(s.generation);
    if (m === undefined || s.index < m) minKept.set(s.generation, s.index);
  }
  const plan: RetentionPlan = { generations: [], snapshots: [], segments: [] };
  for (const gen of i.generations) {
    if (gen !== i.current && !minKept.has(gen)) plan.generations.push(gen);
  }
  const dropped = new Set(plan.generations);
  for (const s of i.snapshots) {
    const m = minKept.get(s.generation);
    if (!dropped.has(s.generation) && m !== undefined && s.index < m) plan.snapshots.push(s);
  }
  for (const w of i.segments) {
    const m = minKept.get(w.generation);
    if (!dropped.has(w.generation) && m !== undefined && w.index < m) plan.segments.push(w);
  }
  return plan;
}

/** EnforceOptions are what enforceRetention needs from the replica. */
export interface EnforceOptions {
  client: ReplicaClient;
  generation: string;
  retention: number;
  snapshot: () => Promise<SnapshotInfo>;
  log: Logger;
  now?: number;
}

/** enforceRetention lists the replica, snapshots first if needed, and deletes what the plan says. */
export async function enforceRetention(o: EnforceOptions): Promise<RetentionPlan> {
  const cutoff = (o.now ?? Date.now()) - o.retention;
  const generations = await o.client.generations();
  const snapshots: SnapshotInfo[] = [];
  const segments: WALSegmentInfo[] = [];
  for (const gen of generations) for await (const s of o.client.snapshots(gen)) snapshots.push(s);
  if (!snapshots.some((s) => s.generation === o.generation && s.createdAt.getTime() > cutoff)) {
    snapshots.push(await o.snapshot());
    if (!generations.includes(o.generation)) generations.push(o.generation);
  }
  for (const gen of generations) for await (const w of o.client.walSegments(gen)) segments.push(w);
  const plan = planRetention({ current: o.generation, cutoff, snapshots, segments, generations });
  for (const gen of plan.generations) await o.client.deleteGeneration(gen);
  for (const s of plan.snapshots) await o.client.deleteSnapshot(s.generation, s.index);
  if (plan.segments.length > 0) await o.client.deleteWALSegments(plan.segments.map(toPos));
  if (plan.generations.length + plan.snapshots.length + plan.segments.length > 0) {
    o.log.info('retention', {
      generations: plan.generations.length,
      snapshots: plan.snapshots.length,
      segments: plan.segments.length,
    });
  }
  return plan;
}

function toPos(w: WALSegmentInfo): Pos {
  return { generation: w.generation, index: w.index, offset: w.offset };
}
