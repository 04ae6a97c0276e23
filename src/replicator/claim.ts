/**
 * claim: one writer per generation, across machines. Before a run writes anything into a
 * generation of a replica it leaves a claim object there, and when its final sync has
 * completed it leaves a release beside it. Both live in `generations/<gen>/claims/`
 * (Litestream v0.3 ignores that folder) and are named, never read, for the decision:
 *
 *   <index>_<offset>.<writer>.claim                      writer W writes from this position
 *   <index>_<offset>.<writer>.<index>_<offset>.released  W stopped cleanly at the second position
 *   <generation>.follows                                 this generation took over from that one
 *
 * A run that leaves a generation for a new one (the restored generation was written since,
 * its own was claimed by a run that was killed, a torn segment, the WAL overwritten) marks
 * the new one as following the old one, before anything else is written there. Restore
 * reads the markers only to order generations whose newest objects carry the same time
 * (S3 keeps whole seconds): the follower is the newer one.
 *
 * A generation this run started itself (a fresh random name) is claimed without checks.
 * An existing one (resumed from the meta directory, or continued after a restore) is
 * adopted only if:
 *   - after a restore: the replica still ends exactly where the restore ended, and no
 *     other generation was written after it;
 *   - its latest claims are all released, at the replica's current end (a claim without a
 *     release is a writer that still runs, or was killed: nobody can tell which);
 *   - our own claim, created at that end, then listed, meets no other unreleased claim at
 *     the same position and none beyond it.
 * Claim names are unique per writer, so the last step works on any store whose listings
 * show every completed write (S3, R2, Tigris, MinIO, s3rver, a directory): of two writers
 * that claim at once the later one always sees the earlier one, and at worst both step
 * back. A generation without any claim was written by Litestream or an older Lifeboat:
 * it is adopted on the position checks alone.
 */
import { randomHex } from '../random.js';
import os from 'node:os';
import { summarizeReplica } from './generations.js';
import { type Pos, comparePos, hex8 } from './pos.js';
import type { ReplicaClient } from './replica-client.js';

/** GenerationOrigin: how this run came to write a generation. */
export type GenerationOrigin =
  | { kind: 'new'; after?: string }
  | { kind: 'resumed' }
  | { kind: 'restored'; index: number; offset: number };

/** At is a position inside a generation. */
type At = Pick<Pos, 'index' | 'offset'>;

/** ClaimEntry is one claim found in a listing, and its release if there is one. */
export interface ClaimEntry {
  name: string;
  at: At;
  writer: string;
  released?: At;
}

const CLAIM_RE = /^([0-9a-f]{8})_([0-9a-f]{8})\.([0-9a-f]{16})\.claim$/;
const RELEASE_RE = /^([0-9a-f]{8})_([0-9a-f]{8})\.([0-9a-f]{16})\.([0-9a-f]{8})_([0-9a-f]{8})\.released$/;

const FOLLOWS_RE = /^([0-9a-f]{16})\.follows$/;

const atName = (at: At): string => `${hex8(at.index)}_${hex8(at.offset)}`;
const sameAt = (a: At, b: At): boolean => comparePos(a, b) === 0;

/** claimName is the claim object of `writer` at `at`. */
export function claimName(at: At, writer: string): string {
  return `${atName(at)}.${writer}.claim`;
}

/** releaseName is the release of the claim of `writer` at `at`, stopped at `end`. */
export function releaseName(at: At, writer: string, end: At): string {
  return `${atName(at)}.${writer}.${atName(end)}.released`;
}

/** followsName is the marker saying a generation took over from `generation`. */
export function followsName(generation: string): string {
  return `${generation}.follows`;
}

/** parseFollows returns the generations a claims listing marks as followed (other names are ignored). */
export function parseFollows(names: string[]): string[] {
  return names.flatMap((n) => FOLLOWS_RE.exec(n)?.[1] ?? []);
}

/** loadFollows reads the follow markers of `generations`, for restore's tie-break (plan.ts). */
export async function loadFollows(client: ReplicaClient, generations: string[], signal?: AbortSignal): Promise<Map<string, Set<string>>> {
  const found = await Promise.all(generations.map(async (g) => [g, new Set(parseFollows(await client.claims(g, signal)))] as const));
  return new Map(found);
}

/** parseClaims pairs the claim and release objects of a listing (other names are ignored). */
export function parseClaims(names: string[]): ClaimEntry[] {
  const claims = new Map<string, ClaimEntry>();
  for (const name of names) {
    const m = CLAIM_RE.exec(name);
    if (m) claims.set(`${m[1]}_${m[2]}.${m[3]}`, { name, at: { index: parseInt(m[1], 16), offset: parseInt(m[2], 16) }, writer: m[3] });
  }
  for (const name of names) {
    const m = RELEASE_RE.exec(name);
    const c = m && claims.get(`${m[1]}_${m[2]}.${m[3]}`);
    if (c && m) c.released = { index: parseInt(m[4], 16), offset: parseInt(m[5], 16) };
  }
  return [...claims.values()];
}

/**
 * adoptRefusal is the pure part of the adoption rule: why the latest claims of a
 * generation that ends at `end` forbid writing into it, or undefined when they allow it.
 */
export function adoptRefusal(claims: ClaimEntry[], end: At | undefined): string | undefined {
  if (claims.length === 0) return undefined;
  const top = claims.reduce((a, b) => (comparePos(b.at, a.at) > 0 ? b : a)).at;
  const latest = claims.filter((c) => sameAt(c.at, top));
  const live = latest.find((c) => !c.released);
  if (live) return `writer ${live.writer} claimed it at ${atName(live.at)} and has not released it (still running, or killed)`;
  const stopped = latest.reduce((a, b) => (comparePos(b.released!, a.released!) > 0 ? b : a)).released!;
  if (!end || !sameAt(stopped, end)) return `its last writer stopped at ${atName(stopped)} but the replica ends at ${end ? atName(end) : 'nothing'}: written since`;
  return undefined;
}

/** raceRefusal: after creating our claim at `at`, another unreleased claim there or any claim beyond it means we lost. */
export function raceRefusal(claims: ClaimEntry[], at: At, writer: string): string | undefined {
  const other = claims.find((c) => c.writer !== writer && (comparePos(c.at, at) > 0 || (sameAt(c.at, at) && !c.released)));
  return other ? `writer ${other.writer} claimed it at ${atName(other.at)} at the same time` : undefined;
}

/** Claims is one replica's claim on the generation this run writes. */
export class Claims {
  /** writer identifies this run in claim names (random: two runs never share it). */
  readonly writer = randomHex(8);
  private mine: { generation: string; at: At } | undefined;

  constructor(private readonly client: ReplicaClient) {}

  /** holds reports whether this run has claimed `generation` here. */
  holds(generation: string): boolean {
    return this.mine?.generation === generation;
  }

  /**
   * admit claims `generation`, whose stored data ends at `end` (undefined: nothing
   * stored), before this run writes into it. Returns undefined when admitted, else why
   * not: the caller must start a new generation instead.
   */
  async admit(generation: string, end: Pos | undefined, origin: GenerationOrigin): Promise<string | undefined> {
    if (this.holds(generation)) return undefined;
    const at: At = end ?? { index: 0, offset: 0 };
    if (origin.kind !== 'new') {
      const refusal = await this.adoptionRefusal(generation, end, origin);
      if (refusal) return refusal;
    }
    const name = claimName(at, this.writer);
    await this.client.createClaim(generation, name, this.body(at));
    if (origin.kind === 'new' && origin.after !== undefined && origin.after !== generation) {
      await this.client.createClaim(generation, followsName(origin.after), this.body(at));
    }
    if (origin.kind !== 'new') {
      const lost = raceRefusal(parseClaims(await this.client.claims(generation)), at, this.writer);
      if (lost) {
        await this.client.deleteClaim(generation, name).catch(() => {});
        return lost;
      }
    }
    this.mine = { generation, at };
    return undefined;
  }

  /** release records that this run stopped writing its generation at `end` (after its final sync). */
  async release(end: Pos): Promise<void> {
    const mine = this.mine;
    if (!mine || mine.generation !== end.generation) return;
    await this.client.createClaim(mine.generation, releaseName(mine.at, this.writer, end), this.body(end));
    this.mine = undefined;
  }

  /** adoptionRefusal checks a generation this run did not start (see the rules above). */
  private async adoptionRefusal(generation: string, end: Pos | undefined, origin: GenerationOrigin): Promise<string | undefined> {
    if (origin.kind === 'restored') {
      if (!end || !sameAt(end, origin)) {
        return `the restore ended at ${atName(origin)} but the replica now ends at ${end ? atName(end) : 'nothing'}: written since`;
      }
      const newer = await this.newerGeneration(generation);
      if (newer) return `generation ${newer} was written after it`;
    }
    return adoptRefusal(parseClaims(await this.client.claims(generation)), end);
  }

  /** newerGeneration names another generation of the replica updated after `generation`, if any. */
  private async newerGeneration(generation: string): Promise<string | undefined> {
    const all = await summarizeReplica({ name: this.client.type, client: this.client });
    const mine = all.find((s) => s.generation === generation);
    if (!mine) return undefined;
    return all.find((s) => s.generation !== generation && s.updatedAt.getTime() > mine.updatedAt.getTime())?.generation;
  }

  /** body is a claim's content, for people reading the replica (decisions use the names only). */
  private body(at: At): Uint8Array {
    const info = { writer: this.writer, host: os.hostname(), pid: process.pid, at: atName(at), time: new Date().toISOString() };
    return Buffer.from(`${JSON.stringify(info)}\n`);
  }
}
