/**
 * generations: what a replica holds, one summary per generation (its snapshots, its WAL
 * segments in order, its time range). Restore chooses among these summaries; the
 * `generations`, `snapshots` and `wal` commands print them.
 */
import type { ReplicaClient, SnapshotInfo, WALSegmentInfo } from './replica-client.js';
import { comparePos } from './pos.js';

/** GenerationSummary is one generation of one replica, its files sorted by position. */
export interface GenerationSummary {
  /** replica is the replica's name (from the config, or the type for a URL). */
  replica: string;
  generation: string;
  /** snapshots in ascending index order. */
  snapshots: SnapshotInfo[];
  /** segments in ascending (index, offset) order. */
  segments: WALSegmentInfo[];
  /** createdAt is the oldest createdAt of the generation's files. */
  createdAt: Date;
  /** updatedAt is the newest createdAt of the generation's files. */
  updatedAt: Date;
}

/** NamedClient pairs a replica's name with its storage client. */
export interface NamedClient {
  name: string;
  client: ReplicaClient;
}

/** collect drains an async iterable into an array. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** sortSnapshots orders snapshots by index (in place) and returns them. */
export function sortSnapshots(snapshots: SnapshotInfo[]): SnapshotInfo[] {
  return snapshots.sort((a, b) => a.index - b.index);
}

/** sortSegments orders WAL segments by (index, offset) (in place) and returns them. */
export function sortSegments(segments: WALSegmentInfo[]): WALSegmentInfo[] {
  return segments.sort(comparePos);
}

/** timeBounds returns the oldest and newest createdAt of the files, or undefined when there are none. */
export function timeBounds(files: { createdAt: Date }[]): { createdAt: Date; updatedAt: Date } | undefined {
  if (files.length === 0) return undefined;
  let min = files[0].createdAt.getTime();
  let max = min;
  for (const f of files) {
    const t = f.createdAt.getTime();
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return { createdAt: new Date(min), updatedAt: new Date(max) };
}

/** listGenerations returns a replica's generation names, sorted. */
export async function listGenerations(client: ReplicaClient, signal?: AbortSignal): Promise<string[]> {
  return (await client.generations(signal)).sort();
}

/**
 * summarizeGeneration lists one generation's files; undefined when it holds none (unknown
 * generation). The snapshots are listed first, the WAL segments after: a replicator
 * uploads a snapshot's WAL before the snapshot, so every snapshot found comes with its
 * WAL even while uploads go on. (Listed at once, a WAL listing answered before that WAL
 * landed could pair with a snapshot listing answered after the snapshot did, and a
 * restore would apply the snapshot alone, which is only consistent with its WAL.)
 */
export async function summarizeGeneration(
  replica: NamedClient,
  generation: string,
  signal?: AbortSignal,
): Promise<GenerationSummary | undefined> {
  const snapshots = await collect(replica.client.snapshots(generation, signal));
  const segments = await collect(replica.client.walSegments(generation, signal));
  const bounds = timeBounds([...snapshots, ...segments]);
  if (!bounds) return undefined;
  return {
    replica: replica.name,
    generation,
    snapshots: sortSnapshots(snapshots),
    segments: sortSegments(segments),
    ...bounds,
  };
}

/** LIST_CONCURRENCY bounds the generations listed at once (each is two LIST requests on S3). */
const LIST_CONCURRENCY = 8;

/** summarizeReplica summarizes every generation of a replica, sorted by generation name. */
export async function summarizeReplica(replica: NamedClient, signal?: AbortSignal): Promise<GenerationSummary[]> {
  const names = await listGenerations(replica.client, signal);
  const out: (GenerationSummary | undefined)[] = [];
  for (let i = 0; i < names.length; i += LIST_CONCURRENCY) {
    const batch = names.slice(i, i + LIST_CONCURRENCY);
    out.push(...(await Promise.all(batch.map((name) => summarizeGeneration(replica, name, signal)))));
  }
  return out.filter((s): s is GenerationSummary => s !== undefined);
}

/** lastPosition is the generation's highest stored position: its last segment, else its last snapshot. */
export function lastPosition(s: GenerationSummary): { index: number; offset: number } {
  const seg = s.segments[s.segments.length - 1];
  const snap = s.snapshots[s.snapshots.length - 1];
  if (seg && (!snap || seg.index >= snap.index)) return { index: seg.index, offset: seg.offset };
  return { index: snap?.index ?? 0, offset: 0 };
}
