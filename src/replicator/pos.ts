/**
 * pos: positions in a replica (generation, WAL index, byte offset) and their hex forms.
 * Indexes and offsets are printed `%08x` everywhere (listings, file names, `-index`).
 */
import { randomHex } from '../random.js';

/** Pos is a position inside a generation: byte `offset` of shadow WAL `index`. */
export interface Pos {
  generation: string;
  index: number;
  offset: number;
}

/** MAX_INDEX is the WAL index at which a new generation starts instead (the reference's limit). */
export const MAX_INDEX = 0x7fffffff;

/** MAX_OFFSET is the largest offset an 8-hex-digit segment name can hold. */
export const MAX_OFFSET = 0xffffffff;

const GENERATION_RE = /^[0-9a-f]{16}$/;
const HEX8_RE = /^[0-9a-fA-F]{1,8}$/;

/** hex8 formats `n` as 8 lowercase hex digits. */
export function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** parseHex8 parses up to 8 hex digits, or returns undefined for anything else. */
export function parseHex8(s: string): number | undefined {
  return HEX8_RE.test(s) ? parseInt(s, 16) : undefined;
}

/** isGeneration reports whether `s` is a generation name (16 lowercase hex characters). */
export function isGeneration(s: string): boolean {
  return GENERATION_RE.test(s);
}

/** newGeneration returns a fresh random generation name. */
export function newGeneration(): string {
  return randomHex(8);
}

/** formatPos renders a position as `<gen>/<index>:<offset>` for logs. */
export function formatPos(pos: Pos): string {
  return `${pos.generation}/${hex8(pos.index)}:${hex8(pos.offset)}`;
}

/** comparePos orders two positions of the same generation by (index, offset). */
export function comparePos(a: Pick<Pos, 'index' | 'offset'>, b: Pick<Pos, 'index' | 'offset'>): number {
  return a.index !== b.index ? a.index - b.index : a.offset - b.offset;
}
