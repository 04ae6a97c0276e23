/**
 * build: the replicas bench/vs-reference.mjs restores, each written by one tool's
 * `replicate` while a Writer fills the database (see history.mjs), and the configs both
 * tools read (Litestream v0.3's format).
 */
import fs from 'node:fs';
import path from 'node:path';
import { hasSnapshot, rowsDigest, Writer } from './history.mjs';
import { startReplicator, waitUntil } from './procs.mjs';

/** BUCKET is the s3rver bucket of every S3 replica. */
export const BUCKET = 'bench';

/** s3ReplicaYaml is the entry of an S3 replica at `prefix` on s3rver at 127.0.0.1:`port`. */
export function s3ReplicaYaml(prefix, port) {
  return ['- type: s3', `  bucket: ${BUCKET}`, `  path: ${prefix}`, `  endpoint: http://127.0.0.1:${port}`, '  region: us-east-1',
    '  force-path-style: true', '  access-key-id: AKIDBENCH', '  secret-access-key: bench-secret'];
}

/** writeConfig writes a config whose one database `db` has the `replicas` entries (each a list of lines); returns `file`. */
export function writeConfig(file, db, replicas) {
  const lines = ['dbs:', `  - path: ${db}`, '    replicas:', ...replicas.flat().map((l) => `      ${l}`)];
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * buildReplica writes a replica of about `size` MB of database + WAL with `tool replicate`
 * in the fresh directory `dir`: the database filled to a quarter of the size first, the
 * replicator started and its snapshot awaited, the rest written as WAL at `walRate` MB/s,
 * then a SIGTERM (final sync). A file replica always (it tells when the snapshot is
 * there), and one on s3rver when `s3` ({prefix, port}) is given. Resolves the database,
 * the file replica, the database's rows digest and the seconds it took.
 */
export async function buildReplica({ tool, dir, size, walRate, s3 }) {
  fs.mkdirSync(dir, { recursive: true });
  const db = path.join(dir, 'app.db');
  const replica = path.join(dir, 'replica');
  const cfg = writeConfig(path.join(dir, 'replicate.yml'), db, [[`- path: ${replica}`], ...(s3 ? [s3ReplicaYaml(s3.prefix, s3.port)] : [])]);
  const t = performance.now();
  const writer = new Writer(db, `size-${size}`);
  try {
    writer.fillTo((size * 1e6) / 4);
    const rep = startReplicator(tool, cfg);
    try {
      await waitUntil(`${tool} replicate wrote its snapshot`, () => hasSnapshot(replica) || !rep.running(), 300_000, rep.output);
      if (!rep.running()) throw new Error(`${tool} replicate exited: ${rep.output()}`);
      await writer.appendWAL(size * 1e6 - writer.dbBytes(), walRate);
    } finally {
      const res = await rep.stop();
      if (res.signal === 'SIGKILL') throw new Error(`${tool} replicate did not stop on SIGTERM: ${rep.output()}`);
    }
  } finally {
    writer.close();
  }
  return { dir, db, replica, source: rowsDigest(db), seconds: (performance.now() - t) / 1000 };
}
