/**
 * tail: a torn last segment. A WAL segment cut off mid-upload (a PUT to a store without
 * atomic writes, a torn file write) can only be the newest of its generation: the
 * replicator starts a new generation as soon as it sees one. Restoring that generation
 * stops at its last good segment: the plan's trailing segments that do not decompress
 * are dropped, and each is named.
 */
import { pipeline } from 'node:stream/promises';
import { walSegmentKey } from '../layout.js';
import { Lz4Error, createFrameDecoder } from '../lz4/index.js';
import { type ReplicaClient, bodyStream } from '../replica-client.js';
import type { RestorePlan } from './plan.js';

/** Skipped names a dropped segment and why it could not be read. */
export interface Skipped {
  segment: string;
  reason: string;
}

/**
 * dropTornTail removes, from the end of `plan`, segments that do not decompress, and
 * returns what it removed (newest first). An index left without segments goes too.
 */
export async function dropTornTail(plan: RestorePlan, client: ReplicaClient, signal?: AbortSignal): Promise<Skipped[]> {
  const skipped: Skipped[] = [];
  for (;;) {
    const last = plan.indexes[plan.indexes.length - 1];
    if (!last) return skipped;
    const seg = last.segments[last.segments.length - 1];
    const reason = await unreadable(client, { generation: plan.generation, index: seg.index, offset: seg.offset }, signal);
    if (reason === undefined) return skipped;
    skipped.push({ segment: walSegmentKey(plan.generation, seg.index, seg.offset), reason });
    last.segments.pop();
    if (last.segments.length === 0) plan.indexes.pop();
  }
}

/** unreadable downloads one segment and returns why it does not decompress (empty, cut off, bad LZ4), or undefined. */
async function unreadable(client: ReplicaClient, pos: { generation: string; index: number; offset: number }, signal?: AbortSignal): Promise<string | undefined> {
  const body = await client.readWALSegment(pos, signal);
  try {
    await pipeline(bodyStream(body), createFrameDecoder({ verifyContentChecksum: false }), async (src: AsyncIterable<Buffer>) => {
      for await (const _ of src);
    }, { signal });
    return undefined;
  } catch (err) {
    if (err instanceof Lz4Error) return err.message;
    throw err;
  }
}
