/**
 * lag: how far a replica is behind its database, in time. A replica's lag is the time since
 * it last held everything the database had committed: 0 while it holds the database's
 * position; otherwise `now` minus the moment the replicator first saw the oldest commit the
 * replica does not hold. An idle database whose replica caught up has a lag of 0 however
 * long ago its last commit was; a replica that stopped following while the app writes has a
 * lag that grows from its first missing commit.
 *
 * The replicator observes positions (shadow WAL syncs), not single commits: each observed
 * position carries the time it was first seen. The log of them is bounded (merging
 * neighbours keeps the older time with the newer position, so a merged log can only
 * overstate a lag, never understate it). Pure: no clock, no I/O.
 */
import { comparePos, type Pos } from './pos.js';

/** Seen is a database position and when the replicator first saw it (ms on any clock). */
export interface Seen {
  pos: Pos;
  at: number;
}

/** MERGE_WITHIN: a position seen within this many ms of the previous one (same generation) replaces it, keeping the older time. */
export const MERGE_WITHIN = 250;

/** MAX_SEEN bounds the log; past it, neighbours are merged pairwise. */
export const MAX_SEEN = 4096;

/** generationOrder maps each generation of the log to the index of its first entry. */
export function generationOrder(seen: readonly Seen[]): Map<string, number> {
  const order = new Map<string, number>();
  seen.forEach((s, i) => {
    if (!order.has(s.pos.generation)) order.set(s.pos.generation, i);
  });
  return order;
}

/**
 * holds reports whether a replica at `replica` holds position `p`: the same generation at or
 * past it, or a generation that started after p's (its snapshot holds p). `order` is the
 * log's generationOrder.
 */
export function holds(order: ReadonlyMap<string, number>, replica: Pos | undefined, p: Pos): boolean {
  if (!replica) return false;
  if (replica.generation === p.generation) return comparePos(replica, p) >= 0;
  const r = order.get(replica.generation);
  const q = order.get(p.generation);
  return r !== undefined && q !== undefined && r > q;
}

/**
 * replicaLag is the lag (ms, ≥ 0) at `now` of a replica at `replica` (undefined: it holds
 * nothing restorable) given the log `seen` (oldest first; its last entry is the database's
 * position). An empty log (nothing observed yet) is a lag of 0.
 */
export function replicaLag(seen: readonly Seen[], replica: Pos | undefined, now: number): number {
  const order = generationOrder(seen);
  const first = seen.find((s) => !holds(order, replica, s.pos));
  return first === undefined ? 0 : Math.max(0, now - first.at);
}

/** PositionLog records the positions a database goes through, for replicaLag. */
export class PositionLog {
  private entries: Seen[] = [];

  /** seen is the log, oldest first. */
  get seen(): readonly Seen[] {
    return this.entries;
  }

  /** observe records the database at `pos` at time `at` (a repeat of the last position is ignored). */
  observe(pos: Pos, at: number): void {
    const last = this.entries[this.entries.length - 1];
    if (last && last.pos.generation === pos.generation && comparePos(last.pos, pos) === 0) return;
    // A position close after the last one replaces it, keeping the older time (conservative).
    if (last && last.pos.generation === pos.generation && at - last.at < MERGE_WITHIN) {
      last.pos = pos;
    } else {
      this.entries.push({ pos, at });
    }
    if (this.entries.length > MAX_SEEN) this.entries = halve(this.entries);
  }

  /** lag is replicaLag of a replica at `replica`. */
  lag(replica: Pos | undefined, now: number): number {
    return replicaLag(this.entries, replica, now);
  }

  /** prune drops the entries every one of `replicas` holds, keeping the last (the database's position). */
  prune(replicas: readonly (Pos | undefined)[]): void {
    const order = generationOrder(this.entries);
    let drop = 0;
    while (drop < this.entries.length - 1 && replicas.every((r) => holds(order, r, this.entries[drop].pos))) drop++;
    if (drop > 0) this.entries = this.entries.slice(drop);
  }
}

/** halve merges neighbours pairwise (older time, newer position), keeping the last entry as is. */
function halve(entries: Seen[]): Seen[] {
  const out: Seen[] = [];
  const last = entries[entries.length - 1];
  for (let i = 0; i < entries.length - 1; i += 2) {
    const a = entries[i];
    const b = entries[i + 1];
    out.push(b && b !== last && b.pos.generation === a.pos.generation ? { pos: b.pos, at: a.at } : a);
    if (b && (b === last || b.pos.generation !== a.pos.generation)) out.push(b);
  }
  if (out[out.length - 1] !== last) out.push(last);
  return out;
}
