/**
 * layout: names of the Litestream v0.3.5+ replica layout and of the local meta directory
 * (docs/replica-format.md). Keys are relative to a replica's root and always
 * use `/`; clients map them onto directories or object keys.
 */
import path from 'node:path';
import { hex8 } from './pos.js';

const SNAPSHOT_RE = /^([0-9a-f]{8})\.snapshot\.lz4$/;
const WAL_SEGMENT_RE = /^([0-9a-f]{8})_([0-9a-f]{8})\.wal\.lz4$/;
const LEGACY_WAL_RE = /^([0-9a-f]{8})\.wal(\.lz4)?$/;

/** GENERATIONS_DIR is the top-level folder of a replica. */
export const GENERATIONS_DIR = 'generations';

/** generationKey is `generations/<gen>`. */
export function generationKey(generation: string): string {
  return `${GENERATIONS_DIR}/${generation}`;
}

/** snapshotsKey is `generations/<gen>/snapshots`. */
export function snapshotsKey(generation: string): string {
  return `${generationKey(generation)}/snapshots`;
}

/** walKey is `generations/<gen>/wal`. */
export function walKey(generation: string): string {
  return `${generationKey(generation)}/wal`;
}

/**
 * claimsKey is `generations/<gen>/claims`: the writers' claims on a generation (claim.ts).
 * Litestream v0.3 lists only `snapshots/` and `wal/` inside a generation and ignores it.
 */
export function claimsKey(generation: string): string {
  return `${generationKey(generation)}/claims`;
}

/** CLAIM_NAME_RE is what a claim object may be called: lowercase hex, `_`, `.`, `-` and a letter suffix. */
const CLAIM_NAME_RE = /^[0-9a-f_.-]+\.[a-z]+$/;

/** isClaimName reports whether `name` may name an object under claimsKey (no path separators, no `.tmp`). */
export function isClaimName(name: string): boolean {
  return CLAIM_NAME_RE.test(name) && name.length <= 100 && !name.endsWith('.tmp');
}

/** snapshotName is `<index>.snapshot.lz4`. */
export function snapshotName(index: number): string {
  return `${hex8(index)}.snapshot.lz4`;
}

/** snapshotKey is `generations/<gen>/snapshots/<index>.snapshot.lz4`. */
export function snapshotKey(generation: string, index: number): string {
  return `${snapshotsKey(generation)}/${snapshotName(index)}`;
}

/** walSegmentName is `<index>_<offset>.wal.lz4`. */
export function walSegmentName(index: number, offset: number): string {
  return `${hex8(index)}_${hex8(offset)}.wal.lz4`;
}

/** walSegmentKey is `generations/<gen>/wal/<index>_<offset>.wal.lz4`. */
export function walSegmentKey(generation: string, index: number, offset: number): string {
  return `${walKey(generation)}/${walSegmentName(index, offset)}`;
}

/** parseSnapshotName returns the index of a snapshot file name, or undefined. */
export function parseSnapshotName(name: string): number | undefined {
  const m = SNAPSHOT_RE.exec(name);
  return m ? parseInt(m[1], 16) : undefined;
}

/** parseWALSegmentName returns the index and offset of a segment file name, or undefined. */
export function parseWALSegmentName(name: string): { index: number; offset: number } | undefined {
  const m = WAL_SEGMENT_RE.exec(name);
  return m ? { index: parseInt(m[1], 16), offset: parseInt(m[2], 16) } : undefined;
}

/** isLegacyWALName reports a Litestream v0.3.4 whole-index WAL file name (`%08x.wal[.lz4]`). */
export function isLegacyWALName(name: string): boolean {
  return LEGACY_WAL_RE.test(name);
}

/** metaDir is the local meta directory of a database: `<dir>/.<file>-litestream`. */
export function metaDir(dbPath: string, metaPath?: string): string {
  if (metaPath) return metaPath;
  return path.join(path.dirname(dbPath), `.${path.basename(dbPath)}-litestream`);
}

/** shadowWALDir is `<meta>/generations/<gen>/wal`. */
export function shadowWALDir(meta: string, generation: string): string {
  return path.join(meta, GENERATIONS_DIR, generation, 'wal');
}

/** shadowWALPath is `<meta>/generations/<gen>/wal/<index>.wal`. */
export function shadowWALPath(meta: string, generation: string, index: number): string {
  return path.join(shadowWALDir(meta, generation), `${hex8(index)}.wal`);
}

/** parseShadowWALName returns the index of a shadow WAL file name (`%08x.wal`), or undefined. */
export function parseShadowWALName(name: string): number | undefined {
  const m = /^([0-9a-f]{8})\.wal$/.exec(name);
  return m ? parseInt(m[1], 16) : undefined;
}
