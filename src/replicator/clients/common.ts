/** common: checks and messages shared by the storage backends. */
import { ReplicaError } from '../../errors.js';
import { GENERATIONS_DIR, claimsKey, isClaimName } from '../layout.js';
import { isGeneration } from '../pos.js';

/** LEGACY_LAYOUT_MESSAGE explains why a Litestream v0.3.4 replica is refused rather than misread. */
export const LEGACY_LAYOUT_MESSAGE =
  'replica uses the Litestream v0.3.4 WAL layout (whole-index .wal files), which Lifeboat cannot read';

/** checkGeneration returns `generation`, or throws ReplicaError(op) if it is not 16 lowercase hex characters. */
export function checkGeneration(op: string, generation: string): string {
  if (!isGeneration(generation)) throw new ReplicaError(op, `${GENERATIONS_DIR}/${generation}`, 'invalid generation name');
  return generation;
}

/** claimKey returns `generations/<gen>/claims/<name>`, or throws ReplicaError(op) for a bad generation or name. */
export function claimKey(op: string, generation: string, name: string): string {
  const dir = claimsKey(checkGeneration(op, generation));
  if (!isClaimName(name)) throw new ReplicaError(op, `${dir}/${name}`, 'invalid claim name');
  return `${dir}/${name}`;
}
