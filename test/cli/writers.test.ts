/**
 * writers: one writer per generation (docs/writers.md), with real `replicate` and `restore`
 * processes on a file replica and on s3rver. Each "machine" is its own directory (its own
 * database file and meta directory) restoring from the one shared replica. Afterwards the
 * latest restore must equal exactly one writer's database, and every generation restore.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifeboat } from '../helpers/cli.js';
import { TEST_S3_ENV } from '../helpers/credentials.js';
import { litestream, litestreamSkipReason } from '../helpers/litestream.js';
import { runWriter, startReplicate, type Running } from '../helpers/replicate.js';
import { type S3rver, useS3rver } from '../helpers/s3rver.js';
import { rowsDigest } from '../helpers/sqlite.js';
import { tmpDir } from '../helpers/tmp.js';

let s3: S3rver;
useS3rver('bkt', (started) => (s3 = started), 60_000);

/** Backend makes a fresh shared replica and says how configs and commands name it. */
interface Backend {
  name: string;
  make(): { yaml: string; target: string };
}

const BACKENDS: Backend[] = [
  {
    name: 'file replica',
    make() {
      const replica = path.join(tmpDir(), 'replica');
      return { yaml: `path: ${replica}`, target: `file://${replica}` };
    },
  },
  {
    name: 's3rver',
    make() {
      const url = `s3://bkt/${path.basename(tmpDir())}/app.db?endpoint=${encodeURIComponent(s3.endpoint)}`;
      return { yaml: `url: ${url}`, target: url };
    },
  },
];

/** Machine is one host: its own database path and config, the shared replica. */
interface Machine {
  name: string;
  db: string;
  cfg: string;
}

function machine(name: string, replicaYaml: string): Machine {
  const dir = path.join(tmpDir(), name);
  fs.mkdirSync(dir);
  const db = path.join(dir, 'app.db');
  const cfg = path.join(dir, 'lifeboat.yml');
  fs.writeFileSync(cfg, ['logging:', '  level: debug', 'dbs:', `  - path: ${db}`, '    replicas:', `      - ${replicaYaml}`, '        sync-interval: 100ms', ''].join('\n'));
  return { name, db, cfg };
}

async function restore(m: Machine): Promise<void> {
  const res = await lifeboat(['restore', '-config', m.cfg, m.db], { env: TEST_S3_ENV });
  expect(res.exitCode, String(res.all)).toBe(0);
}

async function replicate(m: Machine): Promise<Running> {
  const rep = startReplicate(['-config', m.cfg], TEST_S3_ENV);
  await rep.waitFor(/replicating/, 30_000);
  return rep;
}

/** stop ends a replicator and returns its output; it must exit 0 after its final sync. */
async function stop(rep: Running): Promise<string> {
  const res = await rep.stop();
  expect(res.exitCode, res.output).toBe(0);
  expect(res.output).toMatch(/final sync complete/);
  return res.output;
}

/** seed makes the replica's first generation: a writer that stopped cleanly. */
async function seed(replicaYaml: string): Promise<void> {
  const m = machine('seed', replicaYaml);
  const rep = await replicate(m);
  await runWriter(m.db, 100);
  await stop(rep);
}

/** listGenerations is the `lifeboat generations` table of the replica (said when an assertion fails). */
async function listGenerations(target: string): Promise<string> {
  const res = await lifeboat(['generations', target], { env: TEST_S3_ENV });
  expect(res.exitCode, String(res.all)).toBe(0);
  return String(res.stdout);
}

async function generations(target: string): Promise<string[]> {
  return (await listGenerations(target))
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[1])
    .filter((g): g is string => /^[0-9a-f]{16}$/.test(g ?? ''));
}

/** restoreDigest restores the latest state (or one generation) to a new file and digests its rows. */
async function restoreDigest(target: string, generation?: string): Promise<string> {
  const out = path.join(tmpDir(), 'out.db');
  const res = await lifeboat(['restore', '-o', out, ...(generation ? ['-generation', generation] : []), target], { env: TEST_S3_ENV });
  expect(res.exitCode, `restore ${generation ?? 'latest'}: ${String(res.all)}`).toBe(0);
  return rowsDigest(out).digest;
}

/** checkReplica: every generation restores, and the latest equals one of `dbs` (returned). */
async function checkReplica(target: string, dbs: Machine[]): Promise<Machine> {
  for (const g of await generations(target)) await restoreDigest(target, g);
  const latest = await restoreDigest(target);
  const match = dbs.filter((m) => rowsDigest(m.db).digest === latest);
  expect(match.map((m) => m.name), 'the latest restore equals exactly one writer').toHaveLength(1);
  return match[0];
}

/** seededPair seeds the replica, then machines A and B both restore it. */
async function seededPair(yaml: string): Promise<{ a: Machine; b: Machine }> {
  await seed(yaml);
  const a = machine('a', yaml);
  const b = machine('b', yaml);
  await restore(a);
  await restore(b);
  return { a, b };
}

/**
 * rollInterleaved: A and B restore the seeded replica, then A writes and stops, then B
 * writes and stops. B must see A's writes and start its own generation.
 */
async function rollInterleaved(yaml: string): Promise<{ a: Machine; b: Machine; outA: string; outB: string }> {
  const { a, b } = await seededPair(yaml);
  let rep = await replicate(a);
  await runWriter(a.db, 60, 0, 120);
  const outA = await stop(rep);
  rep = await replicate(b);
  await runWriter(b.db, 60, 0, 140);
  const outB = await stop(rep);
  expect(outB).toMatch(/WARN another writer may be writing this generation: starting a new one .*written since/);
  expect(outB).toMatch(/new generation/);
  expect(generationOf(outB)).not.toBe(generationOf(outA));
  return { a, b, outA, outB };
}

const generationOf = (output: string): string | undefined => /final sync complete.* generation=([0-9a-f]{16})/.exec(output)?.[1];

describe.each(BACKENDS)('one writer per generation: $name', (backend) => {
  it('rolling, one after the other: B continues what A wrote and stopped', async () => {
    const { yaml, target } = backend.make();
    await seed(yaml);
    const a = machine('a', yaml);
    await restore(a);
    let rep = await replicate(a);
    await runWriter(a.db, 60, 0, 120);
    const outA = await stop(rep);
    expect(outA).toMatch(/continuing the restored generation/);
    const b = machine('b', yaml);
    await restore(b);
    rep = await replicate(b);
    await runWriter(b.db, 60, 0, 140);
    const outB = await stop(rep);
    expect(outB).toMatch(/continuing the restored generation/);
    expect(generationOf(outB)).toBe(generationOf(outA));
    expect((await checkReplica(target, [a, b])).name).toBe('b');
  }, 120_000);

  it('rolling, interleaved: B restored before A wrote, so B starts its own generation', async () => {
    const { yaml, target } = backend.make();
    const { a, b, outA, outB } = await rollInterleaved(yaml);
    const latest = (await checkReplica(target, [a, b])).name;
    expect(latest, `generations:\n${await listGenerations(target)}\nB's output:\n${outB}`).toBe('b');
    expect(await restoreDigest(target, generationOf(outA))).toBe(rowsDigest(a.db).digest);
  }, 120_000);

  it('rolling, overlapping: B starts while A still runs, so B starts its own generation', async () => {
    const { yaml, target } = backend.make();
    const { a, b } = await seededPair(yaml);
    const repA = await replicate(a);
    await runWriter(a.db, 1, 0, 120);
    await repA.waitFor(/wal segment written/);
    const repB = await replicate(b);
    await runWriter(b.db, 60, 0, 140);
    await runWriter(a.db, 60, 0, 120);
    const outB = await stop(repB);
    const outA = await stop(repA);
    expect(outB).toMatch(/WARN another writer may be writing this generation/);
    expect(generationOf(outB)).not.toBe(generationOf(outA));
    expect(await restoreDigest(target, generationOf(outA))).toBe(rowsDigest(a.db).digest);
    expect(await restoreDigest(target, generationOf(outB))).toBe(rowsDigest(b.db).digest);
    await checkReplica(target, [a, b]);
  }, 120_000);

  it('two machines at once: never one generation for both', async () => {
    const { yaml, target } = backend.make();
    const { a, b } = await seededPair(yaml);
    const [repA, repB] = await Promise.all([replicate(a), replicate(b)]);
    await Promise.all([runWriter(a.db, 80, 2, 120), runWriter(b.db, 80, 2, 140)]);
    const [outA, outB] = await Promise.all([stop(repA), stop(repB)]);
    expect(generationOf(outA)).toBeDefined();
    expect(generationOf(outB)).not.toBe(generationOf(outA));
    expect(`${outA}\n${outB}`).toMatch(/WARN another writer may be writing this generation/);
    expect(await restoreDigest(target, generationOf(outA))).toBe(rowsDigest(a.db).digest);
    expect(await restoreDigest(target, generationOf(outB))).toBe(rowsDigest(b.db).digest);
    await checkReplica(target, [a, b]);
  }, 120_000);
});

describe('a store that keeps whole seconds (S3)', () => {
  it('generations written within one second: the latest restore is the one that follows the other', async () => {
    const replica = path.join(tmpDir(), 'replica');
    const { a, b, outA, outB } = await rollInterleaved(`path: ${replica}`);
    const genA = generationOf(outA)!;
    const genB = generationOf(outB)!;
    expect(fs.readdirSync(path.join(replica, 'generations', genB, 'claims'))).toContain(`${genA}.follows`);
    const second = new Date(Math.floor(Date.now() / 1000) * 1000);
    for (const g of [genA, genB]) {
      for (const sub of ['snapshots', 'wal']) {
        const dir = path.join(replica, 'generations', g, sub);
        for (const f of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
          if (f.isFile()) fs.utimesSync(path.join(f.parentPath, f.name), second, second);
        }
      }
    }
    expect((await checkReplica(`file://${replica}`, [a, b])).name).toBe('b');
  }, 120_000);
});

describe('follow markers', () => {
  it('a run restarted after kill -9 starts a new generation that follows the one it left', async () => {
    const replica = path.join(tmpDir(), 'replica');
    const m = machine('a', `path: ${replica}`);
    const first = await replicate(m);
    await runWriter(m.db, 20);
    await first.waitFor(/wal segment written/);
    const left = /new generation .*generation=([0-9a-f]{16})/.exec(first.lines.join('\n'))?.[1];
    expect(left, first.lines.join('\n')).toBeDefined();
    await first.stop('SIGKILL');
    const again = await replicate(m);
    await runWriter(m.db, 20, 0, 140);
    const out = await stop(again);
    const taken = generationOf(out)!;
    expect(taken).not.toBe(left);
    expect(fs.readdirSync(path.join(replica, 'generations', taken, 'claims'))).toContain(`${left}.follows`);
    expect(await restoreDigest(`file://${replica}`)).toBe(rowsDigest(m.db).digest);
  }, 60_000);
});

describe('one writer per database on a machine', () => {
  it('a second replicate on the same database refuses, naming it and the holder', async () => {
    const m = machine('a', `path: ${path.join(tmpDir(), 'replica')}`);
    const first = await replicate(m);
    const second = await lifeboat(['replicate', '-config', m.cfg]);
    expect(second.exitCode).toBe(1);
    expect(String(second.stderr).trim()).toBe(
      `lifeboat replicate: database ${m.db} is already being replicated by process ${first.proc.pid} (only one writer per database; stop it first)`,
    );
    expect((await first.stop()).exitCode).toBe(0);
    const again = await replicate(m);
    expect((await again.stop()).exitCode).toBe(0);
  }, 60_000);

  it('a replicate killed with SIGKILL leaves no stale lock', async () => {
    const m = machine('a', `path: ${path.join(tmpDir(), 'replica')}`);
    const first = await replicate(m);
    await first.stop('SIGKILL');
    const again = await replicate(m);
    expect((await again.stop()).exitCode).toBe(0);
  }, 60_000);
});

describe.skipIf(litestreamSkipReason())('the reference Litestream v0.3 reads a replica with claims', () => {
  it('lists its generations and restores the latest', async () => {
    const replica = path.join(tmpDir(), 'replica');
    await seed(`path: ${replica}`);
    const a = machine('a', `path: ${replica}`);
    await restore(a);
    const rep = await replicate(a);
    await runWriter(a.db, 50, 0, 120);
    await stop(rep);
    expect(fs.readdirSync(path.join(replica, 'generations', (await generations(`file://${replica}`))[0], 'claims')).length).toBeGreaterThan(0);
    const listed = await litestream(['generations', `file://${replica}`]);
    expect(listed.exitCode, String(listed.all)).toBe(0);
    const out = path.join(tmpDir(), 'ls.db');
    const res = await litestream(['restore', '-o', out, `file://${replica}`]);
    expect(res.exitCode, String(res.all)).toBe(0);
    expect(rowsDigest(out).digest).toBe(rowsDigest(a.db).digest);
  }, 60_000);
});
