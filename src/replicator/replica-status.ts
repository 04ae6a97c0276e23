/**
 * replica-status: a database's status read without its replicator — what each replica holds
 * (the generation the local shadow WAL names, else the newest; where its last segment ends),
 * and the local position the last replicator run left in the shadow WAL. `lifeboat status`
 * falls back to it when no replicator answers. The lag is unknown here (null): no process
 * saw the commits happen.
 */
import { fs } from '../builtin.js';
import { pipeline } from 'node:stream/promises';
import type { Config, DbConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { createReplicaClient } from './clients/index.js';
import { summarizeReplica, type GenerationSummary, type NamedClient } from './generations.js';
import { metaDir, shadowWALPath } from './layout.js';
import { createFrameDecoder } from './lz4/index.js';
import { readGeneration } from './meta.js';
import { comparePos, type Pos } from './pos.js';
import { bodyStream } from './replica-client.js';
import { shadowIndexes } from './shadow.js';
import { emptyReplica, posJSON, type DbStatus, type ReplicaStatus } from './status.js';

/** localPosition is where the shadow WAL of the database's current generation ends, if there is one. */
export function localPosition(db: DbConfig): Pos | undefined {
  const meta = metaDir(db.path, db.metaPath);
  const generation = readGeneration(meta);
  if (!generation) return undefined;
  const index = shadowIndexes(meta, generation).at(-1);
  if (index === undefined) return undefined;
  try {
    return { generation, index, offset: fs.statSync(shadowWALPath(meta, generation, index)).size };
  } catch {
    return undefined;
  }
}

/** READ_TIMEOUT bounds reading one replica (ms): an unreachable store is reported, not waited for. */
export const READ_TIMEOUT = 10_000;

/** readDbStatus reads one database's status from its replicas and its shadow WAL. */
export async function readDbStatus(db: DbConfig, config: Config, log: Logger): Promise<DbStatus> {
  const local = localPosition(db);
  const globals = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey };
  const replicas = await Promise.all(
    db.replicas.map(async (rc): Promise<ReplicaStatus> => {
      const named = { name: rc.name, client: createReplicaClient(rc, globals, { logger: log.child({ db: db.path, replica: rc.name }) }) };
      try {
        return await readReplica(named, local, AbortSignal.timeout(READ_TIMEOUT));
      } catch (err) {
        return { ...emptyReplica(rc.name), last_error: errorMessage(err), failing: true };
      } finally {
        await named.client.close();
      }
    }),
  );
  return { path: db.path, state: 'unknown', position: posJSON(local), replicas };
}

/** readReplica finds the generation to report (the local one if the replica has it, else the newest) and where it ends. */
async function readReplica(r: NamedClient, local: Pos | undefined, signal: AbortSignal): Promise<ReplicaStatus> {
  const gens = await summarizeReplica(r, signal);
  const gen = gens.find((g) => g.generation === local?.generation) ?? newest(gens);
  if (!gen || gen.snapshots.length === 0) return { ...emptyReplica(r.name), last_sync: gen ? gen.updatedAt.toISOString() : null };
  const end = await generationEnd(r, gen, signal);
  return {
    ...emptyReplica(r.name),
    position: posJSON(end),
    caught_up: local !== undefined && local.generation === end.generation && comparePos(end, local) >= 0,
    last_sync: gen.updatedAt.toISOString(),
  };
}

/** newest is the generation updated last. */
function newest(gens: GenerationSummary[]): GenerationSummary | undefined {
  return gens.reduce<GenerationSummary | undefined>((a, g) => (!a || g.updatedAt > a.updatedAt ? g : a), undefined);
}

/** generationEnd is where the generation's stored WAL ends: its last segment's offset plus its decompressed length, else its last snapshot. */
async function generationEnd(r: NamedClient, gen: GenerationSummary, signal: AbortSignal): Promise<Pos> {
  const snap = gen.snapshots[gen.snapshots.length - 1];
  const seg = gen.segments[gen.segments.length - 1];
  if (!seg || seg.index < snap.index) return { generation: gen.generation, index: snap.index, offset: 0 };
  let n = 0;
  const body = await r.client.readWALSegment({ generation: gen.generation, index: seg.index, offset: seg.offset }, signal);
  await pipeline(bodyStream(body), createFrameDecoder(), async (src: AsyncIterable<Buffer>) => {
    for await (const chunk of src) n += chunk.length;
  });
  return { generation: gen.generation, index: seg.index, offset: seg.offset + n };
}
