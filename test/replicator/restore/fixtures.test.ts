/** fixtures: every reference-written replica restores to its expected.json (latest, -generation, -generation -index). */
import path from 'node:path';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FileReplicaClient } from '../../../src/replicator/clients/file.js';
import { restore } from '../../../src/replicator/restore/index.js';
import { unpackFixture } from '../../helpers/fixtures.js';
import { integrityCheck, rowsDigest } from '../../helpers/sqlite.js';

async function restoreFixture(name: string, opts: { generation?: string; index?: number } = {}) {
  const fx = unpackFixture(name);
  const out = path.join(fx.dir, 'out.db');
  const res = await restore({ replicas: [{ name: 'file', client: new FileReplicaClient(fx.replica) }], outputPath: out, ...opts });
  expect(res.status).toBe('restored');
  expect(fs.readdirSync(fx.dir).sort()).toEqual(['expected.json', 'out.db', 'replica']);
  expect(integrityCheck(out)).toBe('ok');
  return { fx, out, res, got: rowsDigest(out) };
}

describe('restore of reference fixtures', () => {
  it('basic: latest', async () => {
    const { fx, got } = await restoreFixture('basic');
    expect(got).toEqual({ rows: fx.expected.rows, digest: fx.expected.digest });
  });

  it('multi: latest picks the newest generation', async () => {
    const { fx, got, res } = await restoreFixture('multi');
    expect(res.status === 'restored' && res.plan.generation).toBe(fx.expected.latest.generation);
    expect(got).toEqual({ rows: fx.expected.latest.rows, digest: fx.expected.latest.digest });
  });

  it('multi: -generation restores the first generation across indexes 0 → 1', async () => {
    const gen = unpackFixture('multi').expected.generation_1;
    const { got, res } = await restoreFixture('multi', { generation: gen.generation });
    expect(res.status === 'restored' && res.targetIndex).toBe(1);
    expect(got).toEqual({ rows: gen.rows, digest: gen.digest });
  });

  it('multi: -generation -index 00000000', async () => {
    const want = unpackFixture('multi').expected.generation_1_index_0;
    const { got, res } = await restoreFixture('multi', { generation: want.generation, index: parseInt(want.index, 16) });
    expect(res.status === 'restored' && res.targetIndex).toBe(0);
    expect(got).toEqual({ rows: want.rows, digest: want.digest });
  });
});
