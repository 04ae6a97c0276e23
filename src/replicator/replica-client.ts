/**
 * replica-client: the one storage interface under replication (Litestream's ReplicaClient).
 * A client stores and lists opaque, already-compressed bytes in the replica layout
 * (`layout.ts`); positions, compression and retention live above it. Every method takes
 * an AbortSignal; failures are ReplicaError (op, key), with `notFound` for missing objects.
 */
import { Readable } from 'node:stream';
import type { Pos } from './pos.js';

/** SnapshotInfo describes one stored snapshot (`size` is the stored, compressed size). */
export interface SnapshotInfo {
  generation: string;
  index: number;
  size: number;
  createdAt: Date;
}

/** WALSegmentInfo describes one stored WAL segment (`size` is the stored, compressed size). */
export interface WALSegmentInfo {
  generation: string;
  index: number;
  offset: number;
  size: number;
  createdAt: Date;
}

/** WriteBody is what a client uploads: whole bytes (small) or a stream (snapshots, big segments). */
export type WriteBody = Uint8Array | Readable;

/**
 * ReadBody is what a client hands back for a stored object: its bytes whole (a small
 * object a client can read at once: no stream machinery per object, which is most of the
 * cost of reading thousands of small segments) or a stream (large objects, network bodies).
 */
export type ReadBody = Uint8Array | Readable;

/** bodyStream gives a ReadBody as a byte stream. */
export function bodyStream(body: ReadBody): Readable {
  return body instanceof Readable ? body : Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)], { objectMode: false });
}

/** ReplicaClient stores one replica's generations, snapshots and WAL segments. */
export interface ReplicaClient {
  /** type is the backend name: `file` or `s3`. */
  readonly type: string;

  /** location names the replica for humans and logs (never holds a secret). */
  readonly location: string;

  /** generations lists the generation names present, in any order. */
  generations(signal?: AbortSignal): Promise<string[]>;

  /** snapshots lists a generation's snapshots (any order; empty for an unknown generation). */
  snapshots(generation: string, signal?: AbortSignal): AsyncIterable<SnapshotInfo>;

  /** walSegments lists a generation's WAL segments (any order; empty for an unknown generation). */
  walSegments(generation: string, signal?: AbortSignal): AsyncIterable<WALSegmentInfo>;

  /** writeSnapshot stores a compressed snapshot; a reader never sees a partial one. */
  writeSnapshot(generation: string, index: number, body: WriteBody, signal?: AbortSignal): Promise<SnapshotInfo>;

  /** readSnapshot opens a stored snapshot's compressed bytes (whole when small). */
  readSnapshot(generation: string, index: number, signal?: AbortSignal): Promise<ReadBody>;

  /** writeWALSegment stores a compressed WAL segment at `pos`; a reader never sees a partial one. */
  writeWALSegment(pos: Pos, body: WriteBody, signal?: AbortSignal): Promise<WALSegmentInfo>;

  /** readWALSegment opens a stored WAL segment's compressed bytes (whole when small). */
  readWALSegment(pos: Pos, signal?: AbortSignal): Promise<ReadBody>;

  /** deleteSnapshot removes one snapshot; a missing one is not an error. */
  deleteSnapshot(generation: string, index: number, signal?: AbortSignal): Promise<void>;

  /** deleteWALSegments removes the given segments; missing ones are not an error. */
  deleteWALSegments(positions: Pos[], signal?: AbortSignal): Promise<void>;

  /** claims lists the names of a generation's claim objects (`generations/<gen>/claims/`, claim.ts), in any order. */
  claims(generation: string, signal?: AbortSignal): Promise<string[]>;

  /**
   * createClaim stores a small claim object unless one of that name exists: true if this
   * call created it, false if it existed. It never overwrites where the store can refuse
   * (file: a hard link; S3: `If-None-Match: *`); a store that ignores the condition
   * (s3rver, old MinIO) overwrites, which is why claim names are unique per writer and
   * claim.ts decides by listing.
   */
  createClaim(generation: string, name: string, body: Uint8Array, signal?: AbortSignal): Promise<boolean>;

  /** readClaim returns a claim object's bytes (ReplicaError with `notFound` if missing). */
  readClaim(generation: string, name: string, signal?: AbortSignal): Promise<Buffer>;

  /** deleteClaim removes a claim object; a missing one is not an error. */
  deleteClaim(generation: string, name: string, signal?: AbortSignal): Promise<void>;

  /** deleteGeneration removes a generation and everything in it; a missing one is not an error. */
  deleteGeneration(generation: string, signal?: AbortSignal): Promise<void>;

  /** close releases connections and handles; the client is not used afterwards. */
  close(): Promise<void>;
}
